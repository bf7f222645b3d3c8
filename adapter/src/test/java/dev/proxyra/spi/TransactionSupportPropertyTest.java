package dev.proxyra.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.beans.Introspector;
import java.beans.PropertyDescriptor;
import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.Map;
import java.util.stream.Collectors;

import jakarta.resource.spi.TransactionSupport.TransactionSupportLevel;

import org.junit.jupiter.api.Test;

import dev.proxyra.config.ExternalConfig;
import dev.proxyra.config.InvalidConfigurationException;
import dev.proxyra.config.Setting;

/**
 * The pool property TransactionSupportLevel: what the factory reports to the server through
 * jakarta.resource.spi.TransactionSupport, set by name (as servers do from ra.xml) and through java.beans.Introspector
 * (for which the String setter and the interface's level getter would not make one property).
 */
class TransactionSupportPropertyTest {

    private static ProxyraManagedConnectionFactory factory() {
        ProxyraManagedConnectionFactory mcf = new ProxyraManagedConnectionFactory();
        mcf.setExternalConfig(ExternalConfig.NONE);
        return mcf;
    }

    @Test
    void localTransactionUnlessSetAndReportedWithoutTheRestOfTheConfiguration() {
        ProxyraManagedConnectionFactory mcf = factory(); // no URL yet: the server asks while it registers the pool
        assertThat(mcf.getTransactionSupport()).isEqualTo(TransactionSupportLevel.LocalTransaction);
        mcf.setTransactionSupportLevel("XATransaction");
        assertThat(mcf.getTransactionSupport()).isEqualTo(TransactionSupportLevel.XATransaction);
        mcf.setTransactionSupportLevel("notransaction");
        assertThat(mcf.getTransactionSupport()).isEqualTo(TransactionSupportLevel.NoTransaction);
        mcf.setTransactionSupportLevel("");
        assertThat(mcf.getTransactionSupport()).as("empty counts as unset").isEqualTo(TransactionSupportLevel.LocalTransaction);
    }

    @Test
    void fromMicroProfileConfigWhenThePoolLeavesItUnset() {
        ProxyraManagedConnectionFactory mcf = new ProxyraManagedConnectionFactory();
        mcf.setExternalConfig(ExternalConfig.of(Map.of("proxyra.TransactionSupportLevel", "XATransaction")));
        assertThat(mcf.getTransactionSupport()).isEqualTo(TransactionSupportLevel.XATransaction);
        mcf.setTransactionSupportLevel("LocalTransaction");
        assertThat(mcf.getTransactionSupport()).isEqualTo(TransactionSupportLevel.LocalTransaction);
    }

    @Test
    void aWrongValueNamesThePropertyAndTheAllowedValues() {
        ProxyraManagedConnectionFactory mcf = factory();
        mcf.setTransactionSupportLevel("XA");
        assertThatThrownBy(mcf::getTransactionSupport).isInstanceOf(InvalidConfigurationException.class)
                .hasMessage("proxyra: invalid TransactionSupportLevel 'XA' (from pool property TransactionSupportLevel):"
                        + " allowed values are NoTransaction, LocalTransaction, XATransaction");
        mcf.setURL("jdbc:postgresql://127.0.0.1:1/db");
        assertThatThrownBy(mcf::config).hasMessageContaining("invalid TransactionSupportLevel 'XA'");
    }

    @Test
    void xaOnOracleFailsClosedAtStart() {
        ProxyraManagedConnectionFactory mcf = factory();
        mcf.setURL("jdbc:oracle:thin:@//db:1521/ERP");
        mcf.setTransactionSupportLevel("XATransaction");
        assertThatThrownBy(mcf::config).isInstanceOf(InvalidConfigurationException.class)
                .hasMessageContaining("TransactionSupportLevel XATransaction is not supported on Oracle yet");
        mcf.setTransactionSupportLevel("LocalTransaction");
        assertThat(mcf.config().transactionSupport()).isEqualTo(TransactionSupportLevel.LocalTransaction);
    }

    @Test
    void setByNameAsServersDoFromRaXml() throws Exception {
        ProxyraManagedConnectionFactory mcf = factory();
        Method setter = mcf.getClass().getMethod("set" + Setting.TRANSACTION_SUPPORT.propertyName(), String.class);
        setter.invoke(mcf, "XATransaction");
        assertThat(mcf.getTransactionSupport()).isEqualTo(TransactionSupportLevel.XATransaction);
        // a plain String property: its getter returns what ra.xml declares (WildFly's archive validation and Payara's
        // SetMethodAction type a property by its getter)
        assertThat(mcf.getClass().getMethod("get" + Setting.TRANSACTION_SUPPORT.propertyName()).getReturnType())
                .isEqualTo(String.class);
        assertThat(mcf.getTransactionSupportLevel()).isEqualTo("XATransaction");
        // and no property named TransactionSupport, whose getter would be the interface's
        assertThat(Arrays.stream(mcf.getClass().getMethods()).filter(m -> m.getName().equals("setTransactionSupport")))
                .isEmpty();
    }

    @Test
    void introspectorSeesEverySettingAsAStringOrIntegerPropertyWithGetterAndSetter() throws Exception {
        Map<String, PropertyDescriptor> properties = Arrays.stream(
                        Introspector.getBeanInfo(ProxyraManagedConnectionFactory.class).getPropertyDescriptors())
                .collect(Collectors.toMap(PropertyDescriptor::getName, p -> p));
        for (Setting s : Setting.values()) {
            PropertyDescriptor p = properties.get(Introspector.decapitalize(s.propertyName()));
            assertThat(p).as(s.propertyName()).isNotNull();
            assertThat(p.getWriteMethod()).as(s.propertyName()).isNotNull();
            assertThat(p.getReadMethod()).as(s.propertyName()).isNotNull();
            assertThat(p.getPropertyType()).as(s.propertyName()).isEqualTo(s.beanType());
        }
        ProxyraManagedConnectionFactory mcf = factory();
        properties.get("transactionSupportLevel").getWriteMethod().invoke(mcf, "XATransaction");
        assertThat(mcf.getTransactionSupport()).isEqualTo(TransactionSupportLevel.XATransaction);
        assertThat(properties).containsKeys("resourceAdapter", "logWriter");
    }
}
