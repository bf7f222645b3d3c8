package dev.proxyra.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.EnumMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.proxyra.spi.ProxyraManagedConnectionFactory;

class ConfigResolverTest {
    private static final String PG = "jdbc:postgresql://127.0.0.1:5432/erp";

    private static ProxyraConfig resolve(Map<Setting, Object> pool, Map<String, String> external) {
        return ConfigResolver.resolve(pool, ExternalConfig.of(external));
    }

    private static Map<Setting, Object> pool(Object... pairs) {
        Map<Setting, Object> m = new EnumMap<>(Setting.class);
        for (int i = 0; i < pairs.length; i += 2) {
            m.put((Setting) pairs[i], pairs[i + 1]);
        }
        return m;
    }

    @Test
    void defaultsApplyWhenNothingElseIsSet() {
        ProxyraConfig c = resolve(pool(Setting.URL, PG), Map.of());
        assertThat(c.dialect()).isEqualTo(DialectKind.POSTGRESQL);
        assertThat(c.maxPoolSize()).isEqualTo(10);
        assertThat(c.connectionWaitTimeout()).isEqualTo(10);
        assertThat(c.validateConnectionOnBorrow()).isTrue();
        assertThat(c.unauthenticatedAccess()).isEqualTo(ProxyraConfig.UnauthenticatedAccess.DENY);
        assertThat(c.principalCase()).isEqualTo(ProxyraConfig.PrincipalCase.AS_IS);
        assertThat(c.identityCheck()).isEqualTo(ProxyraConfig.IdentityCheck.VERIFY);
        assertThat(c.roleSwitch()).isEqualTo(ProxyraConfig.RoleSwitch.SET_ROLE);
        assertThat(c.allowExplicitUser()).isFalse();
        assertThat(c.endToEndTags()).isEqualTo(ProxyraConfig.EndToEndTags.APPLICATION);
        assertThat(c.configPrefix()).isEqualTo("proxyra");
    }

    @Test
    void setUserIsAPostgresqlSwitchMode() {
        assertThat(resolve(pool(Setting.URL, PG, Setting.ROLE_SWITCH, "set_user"), Map.of()).roleSwitch())
                .isEqualTo(ProxyraConfig.RoleSwitch.SET_USER);
        assertThatThrownBy(() -> resolve(pool(Setting.URL, "jdbc:oracle:thin:@//db:1521/ERP", Setting.ROLE_SWITCH, "SET_USER"), Map.of()))
                .isInstanceOf(InvalidConfigurationException.class)
                .hasMessageContaining("RoleSwitch SET_USER applies to PostgreSQL only")
                .hasMessageContaining("allowed values: SET_ROLE, SET_USER");
    }

    @Test
    void endToEndTagsAcceptsNoneInAnyCase() {
        assertThat(resolve(pool(Setting.URL, "jdbc:oracle:thin:@//db:1521/ERP", Setting.END_TO_END_TAGS, "none"), Map.of())
                .endToEndTags()).isEqualTo(ProxyraConfig.EndToEndTags.NONE);
    }

    @Test
    void oracleUrlsGetOracleDialectAndUpperCaseNames() {
        ProxyraConfig c = resolve(pool(Setting.URL, "jdbc:oracle:thin:@//db:1521/ERP"), Map.of());
        assertThat(c.dialect()).isEqualTo(DialectKind.ORACLE);
        assertThat(c.principalCase()).isEqualTo(ProxyraConfig.PrincipalCase.UPPER);
    }

    @Test
    void poolValueBeatsMicroProfileConfigWhichBeatsTheDefault() {
        Map<String, String> mp = Map.of("proxyra.MaxPoolSize", "25", "proxyra.MinPoolSize", "3",
                "proxyra.Password", "from-mp", "proxyra.URL", "jdbc:postgresql://other/db");
        ProxyraConfig c = resolve(pool(Setting.URL, PG, Setting.MAX_POOL_SIZE, 40), mp);
        assertThat(c.maxPoolSize()).isEqualTo(40);
        assertThat(c.minPoolSize()).isEqualTo(3);
        assertThat(c.password().reveal()).isEqualTo("from-mp");
        assertThat(c.url()).isEqualTo(PG);
    }

    @Test
    void aPoolValueWinsEvenWhenItEqualsTheDefault() {
        ProxyraConfig c = resolve(pool(Setting.URL, PG, Setting.MAX_POOL_SIZE, 10), Map.of("proxyra.MaxPoolSize", "30"));
        assertThat(c.maxPoolSize()).isEqualTo(10);
    }

    /**
     * The attack: variables meant for another pool (or planted in the environment) must not loosen a pool whose
     * administrator wrote the safe values, although those equal the defaults.
     */
    @Test
    void theEnvironmentCannotLoosenSafeValuesSetOnThePool() {
        Map<String, String> hostile = Map.of("proxyra.UnauthenticatedAccess", "PROXY_USER",
                "proxyra.AllowExplicitUser", "true", "proxyra.IdentityCheck", "SCAN", "proxyra.URL", "jdbc:postgresql://evil/db");
        ProxyraConfig c = resolve(pool(Setting.URL, PG, Setting.UNAUTHENTICATED_ACCESS, "DENY",
                Setting.ALLOW_EXPLICIT_USER, false, Setting.IDENTITY_CHECK, "VERIFY"), hostile);
        assertThat(c.unauthenticatedAccess()).isEqualTo(ProxyraConfig.UnauthenticatedAccess.DENY);
        assertThat(c.allowExplicitUser()).isFalse();
        assertThat(c.identityCheck()).isEqualTo(ProxyraConfig.IdentityCheck.VERIFY);
        assertThat(c.url()).isEqualTo(PG);
    }

    @Test
    void emptyPoolValuesAreUnsetAsConsolesSubmitEmptyFields() {
        ProxyraConfig c = resolve(pool(Setting.URL, PG, Setting.MAX_POOL_SIZE, "", Setting.CALLER_SOURCE, "  "),
                Map.of("proxyra.MaxPoolSize", "30"));
        assertThat(c.maxPoolSize()).isEqualTo(30);
        assertThat(c.callerSource()).isNull();
    }

    @Test
    void theConfigPrefixChangesTheKeys() {
        ProxyraConfig c = resolve(pool(Setting.URL, PG, Setting.CONFIG_PREFIX, "erp.db"),
                Map.of("erp.db.MaxPoolSize", "12", "proxyra.MaxPoolSize", "99"));
        assertThat(c.maxPoolSize()).isEqualTo(12);
    }

    @Test
    void microProfileConfigIsReadWhenAnImplementationIsPresent() {
        System.setProperty("proxyra.MaxPoolSize", "17");
        System.setProperty("proxyra.Password", "mp-secret");
        try {
            ProxyraManagedConnectionFactory mcf = new ProxyraManagedConnectionFactory();
            mcf.setURL(PG);
            assertThat(mcf.config().maxPoolSize()).isEqualTo(17);
            assertThat(mcf.config().password().reveal()).isEqualTo("mp-secret");
            assertThat(mcf.config().toString()).doesNotContain("mp-secret");
            mcf.setMaxPoolSize(5);
            assertThat(mcf.config().maxPoolSize()).isEqualTo(5);
        } finally {
            System.clearProperty("proxyra.MaxPoolSize");
            System.clearProperty("proxyra.Password");
        }
    }

    @Test
    void aMissingUrlNamesThePropertyAndTheConfigKey() {
        assertThatThrownBy(() -> resolve(pool(), Map.of()))
                .isInstanceOf(InvalidConfigurationException.class)
                .hasMessageContaining("property URL is required")
                .hasMessageContaining("proxyra.URL");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "MAX_POOL_SIZE|-1|invalid MaxPoolSize '-1' (from pool property MaxPoolSize): expected a whole number >= 1",
        "MAX_POOL_SIZE|0|invalid MaxPoolSize '0' (from pool property MaxPoolSize): expected a whole number >= 1",
        "MIN_POOL_SIZE|abc|invalid MinPoolSize 'abc' (from pool property MinPoolSize): expected a whole number >= 0",
        "CONNECTION_WAIT_TIMEOUT|-5|invalid ConnectionWaitTimeout '-5'",
        "CONNECTION_WAIT_TIMEOUT|0|invalid ConnectionWaitTimeout '0' (from pool property ConnectionWaitTimeout): expected a whole number of seconds from 1 to 2147483",
        "DIALECT|mysql|invalid Dialect 'mysql' (from pool property Dialect): allowed values are auto, oracle, postgresql",
        "UNAUTHENTICATED_ACCESS|ALLOW|invalid UnauthenticatedAccess 'ALLOW' (from pool property UnauthenticatedAccess): allowed values are DENY, METADATA_ONLY, PROXY_USER",
        "PRINCIPAL_CASE|title|invalid PrincipalCase 'title' (from pool property PrincipalCase): allowed values are UPPER, LOWER, AS_IS",
        "IDENTITY_CHECK|NONE|invalid IdentityCheck 'NONE' (from pool property IdentityCheck): allowed values are VERIFY, SCAN",
        "ROLE_SWITCH|AUTO|invalid RoleSwitch 'AUTO' (from pool property RoleSwitch): allowed values are SET_ROLE, SET_USER",
        "END_TO_END_TAGS|MODULE|invalid EndToEndTags 'MODULE' (from pool property EndToEndTags): allowed values are APPLICATION, NONE",
        "TRANSACTION_SUPPORT|XA|invalid TransactionSupport 'XA' (from pool property TransactionSupport): allowed values are NoTransaction, LocalTransaction, XATransaction",
        "TRANSACTION_SUPPORT|JTA|invalid TransactionSupport 'JTA' (from pool property TransactionSupport): allowed values are NoTransaction, LocalTransaction, XATransaction",
        "ALLOW_EXPLICIT_USER|yes|invalid AllowExplicitUser 'yes' (from pool property AllowExplicitUser): allowed values are true, false",
        "PRINCIPAL_MAP|alice|invalid PrincipalMap entry 'alice': expected caller=DB_USER pairs",
        "DIALECT|oracle|Dialect oracle does not fit URL",
        "FAST_CONNECTION_FAILOVER_ENABLED|true|property FastConnectionFailoverEnabled applies to Oracle only",
        "ONS_CONFIGURATION|nodes=a:6200|property ONSConfiguration applies to Oracle only",
        "ROLE_MAP|managers=MGR|property RoleMap applies to Oracle only",
        "NETWORK_TIMEOUT|-1|invalid NetworkTimeout '-1' (from pool property NetworkTimeout): expected a whole number of seconds from 0 to 2147483",
        "NETWORK_TIMEOUT|2147484|invalid NetworkTimeout '2147484' (from pool property NetworkTimeout): expected a whole number of seconds from 0 to 2147483 (about 24 days",
        "NETWORK_TIMEOUT|99999999999|invalid NetworkTimeout '99999999999' (from pool property NetworkTimeout): expected a whole number of seconds from 0 to 2147483",
        "CONNECTION_WAIT_TIMEOUT|2147484|invalid ConnectionWaitTimeout '2147484'",
        "INACTIVE_CONNECTION_TIMEOUT|2147483647|invalid InactiveConnectionTimeout '2147483647' (from pool property InactiveConnectionTimeout): expected a whole number of seconds from 0 to 2147483",
        "ABANDONED_CONNECTION_TIMEOUT|2147484|invalid AbandonedConnectionTimeout '2147484'",
        "CONNECTION_FACTORY_CLASS_NAME|java.lang.String|invalid ConnectionFactoryClassName 'java.lang.String': not a data source; expected a public javax.sql.DataSource, XADataSource or ConnectionPoolDataSource class",
        "CONNECTION_FACTORY_CLASS_NAME|com.example.NoSuchDataSource|invalid ConnectionFactoryClassName 'com.example.NoSuchDataSource': no such class can be loaded; expected",
        "CONNECTION_FACTORY_CLASS_NAME|javax.sql.DataSource|invalid ConnectionFactoryClassName 'javax.sql.DataSource': it cannot be instantiated",
        "CONNECTION_FACTORY_CLASS_NAME|org.postgresql.ds.common.BaseDataSource|invalid ConnectionFactoryClassName 'org.postgresql.ds.common.BaseDataSource'",
    })
    void invalidValuesNameThePropertyTheValueAndWhatIsAllowed(String setting, String value, String message) {
        Object typed = Setting.valueOf(setting).type() == Integer.class && value.matches("-?\\d{1,9}")
                ? Integer.valueOf(value) : value;
        assertThatThrownBy(() -> resolve(pool(Setting.URL, PG, Setting.valueOf(setting), typed), Map.of()))
                .isInstanceOf(InvalidConfigurationException.class)
                .hasMessageContaining(message);
    }

    @Test
    void theLargestTimeoutsAndTheDriversOwnDataSourcesAreAccepted() {
        ProxyraConfig c = resolve(pool(Setting.URL, PG, Setting.NETWORK_TIMEOUT, 2147483,
                Setting.CONNECTION_FACTORY_CLASS_NAME, "org.postgresql.ds.PGSimpleDataSource"), Map.of());
        assertThat(c.networkTimeout()).isEqualTo(2147483);
        for (String factory : new String[] {"org.postgresql.xa.PGXADataSource", "org.postgresql.ds.PGConnectionPoolDataSource",
            "oracle.jdbc.pool.OracleDataSource", "dev.proxyra.dialect.PostgresDataSource"}) {
            assertThat(resolve(pool(Setting.URL, PG, Setting.CONNECTION_FACTORY_CLASS_NAME, factory), Map.of())
                    .connectionFactoryClassName()).isEqualTo(factory);
        }
    }

    @Test
    void invalidValuesFromMicroProfileConfigSayWhereTheyCameFrom() {
        assertThatThrownBy(() -> resolve(pool(Setting.URL, PG), Map.of("proxyra.MaxPoolSize", "many")))
                .hasMessageContaining("invalid MaxPoolSize 'many' (from MicroProfile Config proxyra.MaxPoolSize)");
    }

    @Test
    void contradictoryPoolSizesAreRefused() {
        assertThatThrownBy(() -> resolve(pool(Setting.URL, PG, Setting.MIN_POOL_SIZE, 5, Setting.MAX_POOL_SIZE, 2), Map.of()))
                .hasMessageContaining("invalid MinPoolSize 5 with MaxPoolSize 2: MinPoolSize must not exceed MaxPoolSize");
        assertThatThrownBy(() -> resolve(pool(Setting.URL, PG, Setting.INITIAL_POOL_SIZE, 5, Setting.MAX_POOL_SIZE, 2), Map.of()))
                .hasMessageContaining("InitialPoolSize must not exceed MaxPoolSize");
    }

    @Test
    void malformedAndUnknownUrlsAreRefusedWithoutShowingPasswords() {
        assertThatThrownBy(() -> resolve(pool(Setting.URL, "postgres://h/db?password=hunter2"), Map.of()))
                .hasMessageContaining("invalid URL")
                .hasMessageNotContaining("hunter2");
        assertThatThrownBy(() -> resolve(pool(Setting.URL, "jdbc:mysql://h/db?password=hunter2"), Map.of()))
                .hasMessageContaining("Dialect auto cannot recognise URL")
                .hasMessageNotContaining("hunter2");
    }

    @Test
    void thePasswordNeverAppearsInToString() {
        ProxyraManagedConnectionFactory mcf = new ProxyraManagedConnectionFactory();
        mcf.setExternalConfig(ExternalConfig.NONE);
        mcf.setURL("jdbc:postgresql://h/db?user=x&password=hunter2");
        mcf.setPassword("s3cr3t-value");
        assertThat(mcf.toString()).doesNotContain("s3cr3t-value").doesNotContain("hunter2").contains("Password=***");
        assertThat(mcf.config().toString()).doesNotContain("s3cr3t-value").doesNotContain("hunter2");
    }

    @Test
    void anOnsWalletPasswordNeverAppearsInToString() {
        ProxyraManagedConnectionFactory mcf = new ProxyraManagedConnectionFactory();
        mcf.setExternalConfig(ExternalConfig.NONE);
        mcf.setURL("jdbc:oracle:thin:@//h:1521/svc");
        mcf.setUser("app_proxy");
        mcf.setPassword("s3cr3t-value");
        mcf.setFastConnectionFailoverEnabled("true");
        mcf.setONSConfiguration("nodes=rac1:6200,rac2:6200\nwalletfile=/w/ewallet.p12\nwalletpassword=w4ll3t");
        assertThat(mcf.toString()).doesNotContain("w4ll3t").contains("walletpassword=***").contains("rac1:6200");
        assertThat(mcf.config().toString()).doesNotContain("w4ll3t").contains("walletpassword=***");
    }

    @Test
    void principalMapParsesPairsAndRefusesDuplicates() {
        assertThat(ConfigResolver.principalMap(" alice = ALICE_DB , bob=BOB_DB,"))
                .containsExactly(Map.entry("alice", "ALICE_DB"), Map.entry("bob", "BOB_DB"));
        assertThatThrownBy(() -> ConfigResolver.principalMap("a=X,a=Y")).hasMessageContaining("mapped twice");
    }

    @Test
    void everySettingIsAFactoryJavaBeanProperty() throws Exception {
        for (Setting s : Setting.values()) {
            var setter = ProxyraManagedConnectionFactory.class.getMethod("set" + s.propertyName(), s.beanType());
            var getter = ProxyraManagedConnectionFactory.class.getMethod("get" + s.propertyName());
            if (s == Setting.TRANSACTION_SUPPORT) {
                // its only getter is jakarta.resource.spi.TransactionSupport's, returning the level (see
                // TransactionSupportPropertyTest, which also checks it through java.beans.Introspector)
                ProxyraManagedConnectionFactory mcf = new ProxyraManagedConnectionFactory();
                mcf.setExternalConfig(ExternalConfig.NONE);
                setter.invoke(mcf, "XATransaction");
                assertThat(getter.invoke(mcf)).hasToString("XATransaction");
                continue;
            }
            assertThat(getter.getReturnType()).isEqualTo(s.beanType());
            ProxyraManagedConnectionFactory mcf = new ProxyraManagedConnectionFactory();
            Object value = s.beanType() == Integer.class ? Integer.valueOf(3) : s.type() == Boolean.class ? "true" : "v";
            setter.invoke(mcf, value);
            assertThat(getter.invoke(mcf)).isEqualTo(value);
        }
    }
}
