package dev.proxyra.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

/**
 * The README's configuration reference is the factory's property table: this test fails, printing the
 * table to paste, whenever a property, default or description changes on one side only.
 */
class ReadmeReferenceTest {
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
    void readmeConfigurationReferenceMatchesTheFactoryProperties() throws IOException {
        String readme = Files.readString(Path.of("..", "README.md"), StandardCharsets.UTF_8);
        int begin = readme.indexOf(BEGIN);
        int end = readme.indexOf(END);
        assertThat(begin).as("README.md must contain " + BEGIN).isNotNegative();
        assertThat(end).as("README.md must contain " + END).isGreaterThan(begin);
        String documented = readme.substring(begin + BEGIN.length(), end).strip();
        assertThat(documented)
                .as("README.md configuration reference is out of date; replace it with:%n%s", renderTable())
                .isEqualTo(renderTable().strip());
    }
}
