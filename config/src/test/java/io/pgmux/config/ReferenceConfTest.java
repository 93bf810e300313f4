package io.pgmux.config;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReferenceConfTest {
    @Test
    void everySettingHasAComment() throws IOException {
        List<String> lines;
        try (InputStream in = getClass().getClassLoader().getResourceAsStream("reference.conf")) {
            lines = new String(in.readAllBytes(), StandardCharsets.UTF_8)
                    .lines()
                    .toList();
        }
        Config reference = ConfigFactory.parseResources("reference.conf");
        List<String> undocumented = new ArrayList<>();
        collect(reference.root(), "", lines, undocumented);
        assertTrue(undocumented.isEmpty(), "settings without a comment: " + undocumented);
    }

    private static void collect(ConfigObject object, String path, List<String> lines, List<String> undocumented) {
        object.forEach((key, value) -> {
            String p = path.isEmpty() ? key : path + "." + key;
            if (value instanceof ConfigObject child && !child.isEmpty()) {
                collect(child, p, lines, undocumented);
            } else if (!isCommented(value, lines)) {
                undocumented.add(p);
            }
        });
    }

    /** A comment at the end of the setting's line, or on the line above. */
    private static boolean isCommented(ConfigValue value, List<String> lines) {
        int line = value.origin().lineNumber() - 1;
        return lines.get(line).contains("#") || lines.get(line - 1).trim().startsWith("#");
    }
}
