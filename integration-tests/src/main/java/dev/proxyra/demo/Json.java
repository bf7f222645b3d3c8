package dev.proxyra.demo;

import jakarta.json.JsonObject;
import jakarta.json.JsonWriter;
import jakarta.json.JsonWriterFactory;
import jakarta.json.stream.JsonGenerator;

import java.io.StringWriter;
import java.util.Map;

/** Pretty-printed JSON, so the demo's curl output is readable. */
final class Json {
    private static final JsonWriterFactory WRITERS =
            jakarta.json.Json.createWriterFactory(Map.of(JsonGenerator.PRETTY_PRINTING, true));

    private Json() {
    }

    static String pretty(JsonObject o) {
        StringWriter w = new StringWriter();
        try (JsonWriter writer = WRITERS.createWriter(w)) {
            writer.writeObject(o);
        }
        return w.toString().strip() + "\n";
    }
}
