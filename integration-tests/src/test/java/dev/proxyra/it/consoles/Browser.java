package dev.proxyra.it.consoles;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.function.Function;

import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * Debian's headless Chromium driven through its chromedriver, as an administrator's browser: explicit waits on what the
 * page shows (never sleeps), a numbered screenshot of each step for the server guide, the page saved when a step fails.
 */
final class Browser implements AutoCloseable {
    static final Path CHROMIUM = Path.of(System.getProperty("console.chromium", "/usr/bin/chromium"));
    static final Path CHROMEDRIVER = Path.of(System.getProperty("console.chromedriver", "/usr/bin/chromedriver"));

    final WebDriver driver;
    final WebDriverWait wait;
    private final Path shots;
    private int step;

    /** Skips the calling test, saying why, where Chromium or its driver is not installed. */
    static void assumeInstalled() {
        Assumptions.assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
                "console test skipped: no " + (Files.isExecutable(CHROMIUM) ? CHROMEDRIVER : CHROMIUM)
                        + " (install Debian's chromium and chromium-driver: apt-get install chromium chromium-driver;"
                        + " .ci/run does)");
    }

    Browser(Path shots) throws IOException {
        this(shots, null);
    }

    /**
     * A browser that answers the server's HTTP authentication challenges (BASIC or DIGEST) with {@code credentials},
     * through WebDriver BiDi: it only sees the challenge, never a request's body.
     */
    Browser(Path shots, org.openqa.selenium.UsernameAndPassword credentials) throws IOException {
        this.shots = shots;
        Files.createDirectories(shots);
        try (var old = Files.list(shots)) { // the screenshots of this run only
            for (Path p : old.toList()) {
                Files.delete(p);
            }
        }
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1100");
        if (credentials != null) {
            options.enableBiDi();
        }
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort().build();
        driver = new ChromeDriver(service, options);
        wait = new WebDriverWait(driver, Duration.ofSeconds(120));
        if (credentials != null) {
            network = new org.openqa.selenium.bidi.module.Network(driver);
            network.addIntercept(new org.openqa.selenium.bidi.network.AddInterceptParameters(
                    org.openqa.selenium.bidi.network.InterceptPhase.AUTH_REQUIRED));
            network.onAuthRequired(challenge -> network.continueWithAuth(challenge.getRequest().getRequestId(),
                    credentials));
        } else {
            network = null;
        }
    }

    private final org.openqa.selenium.bidi.module.Network network;

    <T> T until(Function<WebDriver, T> condition) {
        return wait.until(condition);
    }

    WebElement visible(By by) {
        return wait.until(ExpectedConditions.visibilityOfElementLocated(by));
    }

    WebElement present(By by) {
        return wait.until(ExpectedConditions.presenceOfElementLocated(by));
    }

    /** Clicks once it can, scrolled into the middle of the window. */
    WebElement click(By by) {
        WebElement element = wait.until(ExpectedConditions.elementToBeClickable(by));
        ((JavascriptExecutor) driver).executeScript("arguments[0].scrollIntoView({block:'center'})", element);
        element.click();
        return element;
    }

    /**
     * Types until the field holds exactly {@code text}: a console that moves the focus while a dialog opens (HAL
     * focuses its first field after the animation) would otherwise send the keys to another field.
     */
    WebElement type(By by, String text) {
        return wait.until(d -> {
            WebElement element = d.findElement(by);
            if (!element.isDisplayed()) {
                return null;
            }
            if (!text.equals(element.getAttribute("value"))) {
                element.clear();
                element.sendKeys(text);
            }
            return text.equals(element.getAttribute("value")) ? element : null;
        });
    }

    /** A screenshot named after the step, numbered in order: 01-console.png, 02-... */
    void shot(String name) throws IOException {
        File file = ((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE);
        Files.copy(file.toPath(), shots.resolve(String.format("%02d-%s.png", ++step, name)),
                StandardCopyOption.REPLACE_EXISTING);
    }

    /** What the page was when a step failed, for the report. */
    void saveFailure() {
        try {
            shot("FAILED");
            Files.writeString(shots.resolve("FAILED.html"), driver.getPageSource());
        } catch (IOException | RuntimeException e) {
            // the test's own failure is what matters
        }
    }

    @Override
    public void close() {
        if (network != null) {
            network.close();
        }
        driver.quit();
    }
}
