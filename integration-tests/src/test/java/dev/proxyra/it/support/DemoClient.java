package dev.proxyra.it.support;

import dev.proxyra.demo.DemoUsers;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;

import java.io.IOException;
import java.io.StringReader;
import java.net.URI;
import java.net.URL;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;

/** The demo application over HTTP, as curl would call it: BASIC authentication, JSON answers. */
public final class DemoClient {
    private final HttpClient http;
    private final URI base;

    /** @param deployment the URL Arquillian reports for demo.war; its port is used on 127.0.0.1 */
    public DemoClient(URL deployment) {
        this(URI.create("http://127.0.0.1:" + deployment.getPort() + "/demo/"));
    }

    public DemoClient(URI base) {
        this.base = base;
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10))
                .build();
    }

    public URI base() {
        return base;
    }

    /** {@code user} null: anonymous. */
    public Reply get(String path, String user) throws IOException, InterruptedException {
        return send(request(path, user).GET().build());
    }

    public Reply post(String path, String user, String field, String value) throws IOException, InterruptedException {
        String form = field + "=" + URLEncoder.encode(value, StandardCharsets.UTF_8);
        return send(request(path, user)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form))
                .build());
    }

    private HttpRequest.Builder request(String path, String user) {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(30))
                .header("Accept", "application/json");
        if (user != null) {
            String password = DemoUsers.USERS.get(user);
            b.header("Authorization", "Basic " + Base64.getEncoder()
                    .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8)));
        }
        return b;
    }

    private Reply send(HttpRequest request) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
        return new Reply(request.method() + " " + request.uri(), r.statusCode(), r.body());
    }

    /** One HTTP answer. */
    public record Reply(String request, int status, String body) {

        public JsonObject json() {
            try (var reader = Json.createReader(new StringReader(body))) {
                return reader.readObject();
            } catch (RuntimeException e) {
                throw new AssertionError(request + " answered " + status + " with no JSON object: " + body, e);
            }
        }

        public String text(String field) {
            JsonValue v = json().get(field);
            return v instanceof JsonString s ? s.getString() : v == null ? null : v.toString();
        }

        /** The {@code rows} array's field values. */
        public List<String> rows(String field) {
            return json().getJsonArray("rows").getValuesAs(JsonObject.class).stream()
                    .map(o -> o.getString(field)).toList();
        }

        public Reply expect(int expected) {
            if (status != expected) {
                throw new AssertionError(request + ": expected HTTP " + expected + ", got " + status + ": " + body);
            }
            return this;
        }

        @Override
        public String toString() {
            return request + " -> " + status + " " + body;
        }
    }
}
