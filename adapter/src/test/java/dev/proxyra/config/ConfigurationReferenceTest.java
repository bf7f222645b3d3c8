package dev.proxyra.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

/**
 * docs/configuration.md's reference is the factory's property table: this test fails, printing the
 * table to paste, whenever a property, default or description changes on one side only.
 */
class ConfigurationReferenceTest {
    private static final String BEGIN = "<!-- configuration-reference:begin -->";
    private static final String END = "<!-- configuration-reference:end -->";

    static String renderTable() {
        StringBuilder sb = new StringBuilder();
        sb.append("| Property | Type | Default | Allowed values | Description |\n");
        sb.append("|---|---|---|---|---|\n");
        for (Setting s : Setting.values()) {
            sb.append("| `").append(s.propertyName()).append("` | ")
                    .append(s.type().getSimpleName()).append(" | ")
                    .append(s.defaultValue() == null ? "" : "`" + s.defaultValue() + "`").append(" | ")
                    .append(s.allowedValues().isEmpty() ? "" : String.join(", ", s.allowedValues())).append(" | ")
                    .append(s.description().replace("|", "\\|")).append(" |\n");
        }
        return sb.toString();
    }

    @Test
    void theConfigurationReferenceMatchesTheFactoryProperties() throws IOException {
        String page = Files.readString(Path.of("..", "docs", "configuration.md"), StandardCharsets.UTF_8);
        int begin = page.indexOf(BEGIN);
        int end = page.indexOf(END);
        assertThat(begin).as("docs/configuration.md must contain " + BEGIN).isNotNegative();
        assertThat(end).as("docs/configuration.md must contain " + END).isGreaterThan(begin);
        String documented = page.substring(begin + BEGIN.length(), end).strip();
        assertThat(documented)
                .as("docs/configuration.md configuration reference is out of date; replace it with:%n%s", renderTable())
                .isEqualTo(renderTable().strip());
    }
}
