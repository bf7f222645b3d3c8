package dev.proxyra.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import dev.proxyra.spi.ProxyraManagedConnectionFactory;

/**
 * A flag is true or false and nothing else, whichever way it arrives: a server that converted
 * {@code RequirePrincipalMapping=yes} as {@code Boolean.valueOf} does would turn the check off.
 */
class FlagPropertiesTest {
    /** Oracle: every flag applies (FastConnectionFailoverEnabled is Oracle only). */
    private static final String URL = "jdbc:oracle:thin:@//db.invalid:1521/ERP";

    private static final Map<Setting, Predicate<ProxyraConfig>> FLAGS = Map.of(
            Setting.VALIDATE_CONNECTION_ON_BORROW, ProxyraConfig::validateConnectionOnBorrow,
            Setting.LEAK_DETECTION, ProxyraConfig::leakDetection,
            Setting.FAST_CONNECTION_FAILOVER_ENABLED, ProxyraConfig::fastConnectionFailoverEnabled,
            Setting.REQUIRE_PRINCIPAL_MAPPING, ProxyraConfig::requirePrincipalMapping,
            Setting.CLIENT_IDENTIFIER, ProxyraConfig::clientIdentifier,
            Setting.ALLOW_EXPLICIT_USER, ProxyraConfig::allowExplicitUser);

    private static ProxyraConfig onPool(Setting s, Object value) {
        Map<Setting, Object> pool = new EnumMap<>(Setting.class);
        pool.put(Setting.URL, URL);
        pool.put(s, value);
        return ConfigResolver.resolve(pool, ExternalConfig.NONE);
    }

    static Stream<Arguments> flagsAndLookalikes() {
        return FLAGS.keySet().stream().flatMap(s -> Stream.of("yes", "no", "1", "0", "on", "off", "y", "t", "TRUE!",
                "tru", "truee", "true,false", "\u0074rue\u200B").map(v -> Arguments.of(s, v)));
    }

    @Test
    void everyFlagIsInTheTable() {
        assertThat(Arrays.stream(Setting.values()).filter(s -> s.type() == Boolean.class)).containsExactlyInAnyOrderElementsOf(
                FLAGS.keySet());
    }

    @ParameterizedTest(name = "{0}={1}")
    @MethodSource("flagsAndLookalikes")
    void anythingButTrueOrFalseIsRefusedNamingThePropertyAndTheAllowedValues(Setting s, String value) {
        assertThatThrownBy(() -> onPool(s, value))
                .isInstanceOf(InvalidConfigurationException.class)
                .hasMessageContaining("invalid " + s.propertyName() + " '" + value + "' (from pool property "
                        + s.propertyName() + "): allowed values are true, false");
        // the same through MicroProfile Config
        Map<Setting, Object> pool = new EnumMap<>(Setting.class);
        pool.put(Setting.URL, URL);
        assertThatThrownBy(() -> ConfigResolver.resolve(pool, ExternalConfig.of(Map.of("proxyra." + s.propertyName(), value))))
                .isInstanceOf(InvalidConfigurationException.class)
                .hasMessageContaining("invalid " + s.propertyName() + " '" + value + "' (from MicroProfile Config proxyra."
                        + s.propertyName() + "): allowed values are true, false");
    }

    @Test
    void trueAndFalseInAnyCaseAndEmptyAsUnset() {
        FLAGS.forEach((s, read) -> {
            for (String yes : List.of("true", "TRUE", "True", " tRuE ")) {
                assertThat(read.test(onPool(s, yes))).as("%s=%s", s.propertyName(), yes).isTrue();
            }
            for (String no : List.of("false", "FALSE", "False ")) {
                assertThat(read.test(onPool(s, no))).as("%s=%s", s.propertyName(), no).isFalse();
            }
            // consoles submit empty fields: empty is unset, and the default applies
            boolean byDefault = Boolean.parseBoolean(s.defaultValue());
            assertThat(read.test(onPool(s, ""))).as("%s empty", s.propertyName()).isEqualTo(byDefault);
            assertThat(read.test(onPool(s, "  "))).as("%s blank", s.propertyName()).isEqualTo(byDefault);
        });
    }

    /** What a server does with ra.xml's type: calls the setter of that type with the text the administrator wrote. */
    @Test
    void theFactoryTakesFlagsAsTextAndOffersNoSetterAServerCouldConvertFor() throws Exception {
        for (Setting s : FLAGS.keySet()) {
            assertThat(s.beanType()).as(s.propertyName()).isEqualTo(String.class);
            for (Method m : ProxyraManagedConnectionFactory.class.getMethods()) {
                if (m.getName().equals("set" + s.propertyName())) {
                    assertThat(m.getParameterTypes()).as(m.toString()).containsExactly(String.class);
                }
            }
            ProxyraManagedConnectionFactory mcf = new ProxyraManagedConnectionFactory();
            mcf.setExternalConfig(ExternalConfig.NONE);
            mcf.setURL(URL);
            ProxyraManagedConnectionFactory.class.getMethod("set" + s.propertyName(), String.class).invoke(mcf, "yes");
            assertThatThrownBy(mcf::config)
                    .hasMessageContaining("invalid " + s.propertyName() + " 'yes'")
                    .hasMessageContaining("allowed values are true, false");
        }
        assertThat(Arrays.stream(Setting.values()).map(Setting::beanType).distinct())
                .containsExactlyInAnyOrder(String.class, Integer.class);
    }
}
