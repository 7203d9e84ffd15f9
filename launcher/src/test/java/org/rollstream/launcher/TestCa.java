package org.rollstream.launcher;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * TLS material made at test time with the JDK's keytool: a throw-away CA, a broker key and
 * certificate signed by it for {@code 127.0.0.1}/{@code localhost}, and a truststore holding only
 * the CA. EC P-256 keys, valid for two days; nothing leaves {@code dir}.
 */
record TestCa(Path brokerKeystore, Path truststore, String password) {

    static TestCa create(Path dir) throws IOException, InterruptedException {
        String password = "test-store-secret";
        Path ca = dir.resolve("ca.p12");
        Path caCert = dir.resolve("ca.pem");
        Path broker = dir.resolve("broker.p12");
        Path csr = dir.resolve("broker.csr");
        Path brokerCert = dir.resolve("broker.pem");
        Path trust = dir.resolve("truststore.p12");
        String san = "SAN=ip:127.0.0.1,dns:localhost";
        keytool("-genkeypair", "-alias", "ca", "-dname", "CN=Rollstream test CA", "-ext", "bc:c", "-validity", "2",
                "-keyalg", "EC", "-groupname", "secp256r1", "-keystore", ca, "-storetype", "PKCS12", "-storepass", password);
        keytool("-exportcert", "-rfc", "-alias", "ca", "-keystore", ca, "-storepass", password, "-file", caCert);
        keytool("-genkeypair", "-alias", "broker", "-dname", "CN=127.0.0.1", "-validity", "2",
                "-keyalg", "EC", "-groupname", "secp256r1", "-keystore", broker, "-storetype", "PKCS12", "-storepass", password);
        keytool("-certreq", "-alias", "broker", "-keystore", broker, "-storepass", password, "-file", csr);
        keytool("-gencert", "-rfc", "-alias", "ca", "-keystore", ca, "-storepass", password, "-infile", csr,
                "-outfile", brokerCert, "-validity", "2", "-ext", san, "-ext", "eku=serverAuth");
        // the chain reply is accepted only once its issuer is in the store
        keytool("-importcert", "-noprompt", "-alias", "ca", "-keystore", broker, "-storepass", password, "-file", caCert);
        keytool("-importcert", "-alias", "broker", "-keystore", broker, "-storepass", password, "-file", brokerCert);
        keytool("-importcert", "-noprompt", "-alias", "ca", "-keystore", trust, "-storetype", "PKCS12",
                "-storepass", password, "-file", caCert);
        return new TestCa(broker, trust, password);
    }

    private static void keytool(Object... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.add("-J-XX:TieredStopAtLevel=1"); // each call is a short-lived JVM: skip the optimising compiler
        for (Object a : args) {
            command.add(a.toString());
        }
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException("keytool " + args[0] + " failed: " + out);
        }
    }
}
