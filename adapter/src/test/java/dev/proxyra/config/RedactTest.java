package dev.proxyra.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.EnumMap;
import java.util.Map;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import dev.proxyra.spi.ProxyraManagedConnectionFactory;

/** Where an administrator's URL or setting holds a password, no part of it is ever shown. */
class RedactTest {

    /** URLs as pgjdbc and ojdbc read them, with the secret's pieces that must not appear and what must stay. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        // pgjdbc splits parameters at & only: ; ) and spaces are part of the password
        "jdbc:postgresql://h/db?password=decoy;Tail-Secret|decoy,Tail-Secret|jdbc:postgresql://h/db?password=***",
        "jdbc:postgresql://h/db?user=u&password=p1;x)y z\tw&ssl=true|p1,x)y,z\tw|?user=u&password=***&ssl=true",
        "jdbc:postgresql://h/db?password=a%26b%3Bc&sslmode=require|a%26b,%3Bc|password=***&sslmode=require",
        "jdbc:postgresql://h/db?PassWord=Mixed;Case|Mixed,Case|PassWord=***",
        "jdbc:postgresql://h/db?sslpassword=Key;Pass&sslmode=verify-full|Key,Pass|sslpassword=***&sslmode=verify-full",
        "jdbc:postgresql://h/db?password%3DEncoded;Name|Encoded,Name|password%3D***",
        "jdbc:postgresql://h/db?password=first&password=second;tail|first,second,tail|password=***&password=***",
        "jdbc:postgresql://h/db?password = spaced;tail|spaced,tail|password = ***",
        "jdbc:postgresql://u:pw;tail@h/db|pw,tail|//u:***@h/db",
        // Oracle: user/password@ (also quoted, holding an @), Easy Connect parameters, a descriptor
        "jdbc:oracle:thin:scott/tiger;x@//h:1521/s|tiger|jdbc:oracle:thin:scott/***@//h:1521/s",
        "jdbc:oracle:thin:scott/\"ti@ger;x\"@//h:1521/s|ti@,ger|jdbc:oracle:thin:scott/***@//h:1521/s",
        "jdbc:oracle:thin:@tcps://h:1522/s?wallet_location=/w&wallet_password=Wal;let)x&y=1|Wal,let)x|wallet_password=***&y=1",
        "jdbc:oracle:thin:@(DESCRIPTION=(ADDRESS=(HOST=h))(PASSWORD=Desc;ript)(X=1))|Desc,ript|(PASSWORD=***",
    })
    void noPieceOfAUrlPasswordIsShown(String url, String pieces, String shown) {
        String masked = Redact.url(url);
        for (String piece : pieces.split(",")) {
            assertThat(masked).as(url).doesNotContain(piece);
        }
        assertThat(masked).contains(shown);
        // and where the URL travels inside a message
        assertThat(Secret.scrub("URL invalid " + url)).doesNotContain(pieces.split(",")[0]);
    }

    @Test
    void settingsAreMaskedToTheEndOfTheLine() {
        String masked = Redact.settings("nodes=rac1:6200\nwalletpassword=w4ll;3t )x\nwalletfile=/w/ewallet.p12");
        assertThat(masked).doesNotContain("w4ll").doesNotContain("3t").doesNotContain(")x")
                .contains("nodes=rac1:6200").contains("walletpassword=***").contains("walletfile=/w/ewallet.p12");
    }

    @Test
    void theFactoryAndItsConfigurationShowNoTail() {
        ProxyraManagedConnectionFactory mcf = new ProxyraManagedConnectionFactory();
        mcf.setExternalConfig(ExternalConfig.NONE);
        mcf.setURL("jdbc:postgresql://h/db?user=x&password=decoy;Tail-Secret&ApplicationName=erp");
        assertThat(mcf.toString()).doesNotContain("Tail-Secret").doesNotContain("decoy").contains("ApplicationName=erp");
        assertThat(mcf.config().toString()).doesNotContain("Tail-Secret").doesNotContain("decoy");
        Map<Setting, Object> pool = new EnumMap<>(Setting.class);
        pool.put(Setting.URL, "jdbc:postgresql://h/db?password=decoy;Tail-Secret");
        pool.put(Setting.DIALECT, "oracle");
        try {
            ConfigResolver.resolve(pool, ExternalConfig.NONE);
        } catch (InvalidConfigurationException e) {
            assertThat(e.getMessage()).contains("does not fit URL").doesNotContain("Tail-Secret");
            return;
        }
        throw new AssertionError("a Dialect contradicting the URL was accepted");
    }
}
