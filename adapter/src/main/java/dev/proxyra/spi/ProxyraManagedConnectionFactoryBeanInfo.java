package dev.proxyra.spi;

import java.beans.IntrospectionException;
import java.beans.Introspector;
import java.beans.PropertyDescriptor;
import java.beans.SimpleBeanInfo;
import java.util.ArrayList;
import java.util.List;

import dev.proxyra.config.Setting;

/**
 * The factory's bean properties as java.beans.Introspector would find them, except TransactionSupport: its getter is
 * jakarta.resource.spi.TransactionSupport's {@code getTransactionSupport()}, returning the level, while ra.xml
 * declares the property as a String, set through {@code setTransactionSupport(String)}. Left to itself Introspector
 * pairs the two by name, finds their types differ and keeps only the getter, a read-only property a server
 * configuring the factory through Introspector could not set. Here the property is write-only, with that setter.
 */
public final class ProxyraManagedConnectionFactoryBeanInfo extends SimpleBeanInfo {

    @Override
    public PropertyDescriptor[] getPropertyDescriptors() {
        try {
            List<PropertyDescriptor> properties = new ArrayList<>();
            String transactionSupport = Introspector.decapitalize(Setting.TRANSACTION_SUPPORT.propertyName());
            for (PropertyDescriptor p : Introspector.getBeanInfo(ProxyraManagedConnectionFactory.class,
                    Introspector.IGNORE_IMMEDIATE_BEANINFO).getPropertyDescriptors()) {
                if (!p.getName().equals(transactionSupport)) {
                    properties.add(p);
                }
            }
            properties.add(new PropertyDescriptor(transactionSupport, null, ProxyraManagedConnectionFactory.class
                    .getMethod("set" + Setting.TRANSACTION_SUPPORT.propertyName(), String.class)));
            return properties.toArray(PropertyDescriptor[]::new);
        } catch (IntrospectionException | NoSuchMethodException e) {
            throw new IllegalStateException("proxyra: the factory's bean properties cannot be described", e);
        }
    }
}
