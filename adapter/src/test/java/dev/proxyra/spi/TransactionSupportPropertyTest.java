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
 * The pool property TransactionSupport: what the factory reports to the server through
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
        mcf.setTransactionSupport("XATransaction");
        assertThat(mcf.getTransactionSupport()).isEqualTo(TransactionSupportLevel.XATransaction);
        mcf.setTransactionSupport("notransaction");
        assertThat(mcf.getTransactionSupport()).isEqualTo(TransactionSupportLevel.NoTransaction);
        mcf.setTransactionSupport("");
        assertThat(mcf.getTransactionSupport()).as("empty counts as unset").isEqualTo(TransactionSupportLevel.LocalTransaction);
    }

    @Test
    void fromMicroProfileConfigWhenThePoolLeavesItUnset() {
        ProxyraManagedConnectionFactory mcf = new ProxyraManagedConnectionFactory();
        mcf.setExternalConfig(ExternalConfig.of(Map.of("proxyra.TransactionSupport", "XATransaction")));
        assertThat(mcf.getTransactionSupport()).isEqualTo(TransactionSupportLevel.XATransaction);
        mcf.setTransactionSupport("LocalTransaction");
        assertThat(mcf.getTransactionSupport()).isEqualTo(TransactionSupportLevel.LocalTransaction);
    }

    @Test
    void aWrongValueNamesThePropertyAndTheAllowedValues() {
        ProxyraManagedConnectionFactory mcf = factory();
        mcf.setTransactionSupport("XA");
        assertThatThrownBy(mcf::getTransactionSupport).isInstanceOf(InvalidConfigurationException.class)
                .hasMessage("proxyra: invalid TransactionSupport 'XA' (from pool property TransactionSupport): allowed"
                        + " values are NoTransaction, LocalTransaction, XATransaction");
        mcf.setURL("jdbc:postgresql://127.0.0.1:1/db");
        assertThatThrownBy(mcf::config).hasMessageContaining("invalid TransactionSupport 'XA'");
    }

    @Test
    void xaOnOracleFailsClosedAtStart() {
        ProxyraManagedConnectionFactory mcf = factory();
        mcf.setURL("jdbc:oracle:thin:@//db:1521/ERP");
        mcf.setTransactionSupport("XATransaction");
        assertThatThrownBy(mcf::config).isInstanceOf(InvalidConfigurationException.class)
                .hasMessageContaining("TransactionSupport XATransaction is not supported on Oracle yet");
        mcf.setTransactionSupport("LocalTransaction");
        assertThat(mcf.config().transactionSupport()).isEqualTo(TransactionSupportLevel.LocalTransaction);
    }

    @Test
    void setByNameAsServersDoFromRaXml() throws Exception {
        ProxyraManagedConnectionFactory mcf = factory();
        Method setter = mcf.getClass().getMethod("set" + Setting.TRANSACTION_SUPPORT.propertyName(), String.class);
        setter.invoke(mcf, "XATransaction");
        assertThat(mcf.getTransactionSupport()).isEqualTo(TransactionSupportLevel.XATransaction);
        // the one setter of that name: a server picking by name cannot land on another type
        assertThat(Arrays.stream(mcf.getClass().getMethods()).filter(m -> m.getName().equals("setTransactionSupport")))
                .hasSize(1);
    }

    @Test
    void introspectorSeesAWritableTransactionSupportAndEverySettingAsBefore() throws Exception {
        Map<String, PropertyDescriptor> properties = Arrays.stream(
                        Introspector.getBeanInfo(ProxyraManagedConnectionFactory.class).getPropertyDescriptors())
                .collect(Collectors.toMap(PropertyDescriptor::getName, p -> p));
        PropertyDescriptor transactionSupport = properties.get("transactionSupport");
        assertThat(transactionSupport).isNotNull();
        assertThat(transactionSupport.getWriteMethod()).isNotNull();
        assertThat(transactionSupport.getWriteMethod().getParameterTypes()).containsExactly(String.class);
        ProxyraManagedConnectionFactory mcf = factory();
        transactionSupport.getWriteMethod().invoke(mcf, "XATransaction");
        assertThat(mcf.getTransactionSupport()).isEqualTo(TransactionSupportLevel.XATransaction);

        // every other property keeps what plain introspection gives: a getter and a setter of the ra.xml type
        for (Setting s : Setting.values()) {
            if (s == Setting.TRANSACTION_SUPPORT) {
                continue;
            }
            PropertyDescriptor p = properties.get(Introspector.decapitalize(s.propertyName()));
            assertThat(p).as(s.propertyName()).isNotNull();
            assertThat(p.getWriteMethod()).as(s.propertyName()).isNotNull();
            assertThat(p.getReadMethod()).as(s.propertyName()).isNotNull();
            assertThat(p.getPropertyType()).as(s.propertyName()).isEqualTo(s.beanType());
        }
        assertThat(properties).containsKeys("resourceAdapter", "logWriter");
    }
}
