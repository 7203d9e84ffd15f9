package org.rollstream.broker;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A client listener secured with TLS and SASL/SCRAM-SHA-512, for {@link EmbeddedKafka#start(Path, SaslSslListener)}.
 *
 * <p>The broker presents the key and certificate chain in {@code keystore} (PKCS12; the key's password
 * is the store's), so clients trust it through a truststore holding the issuing CA; the certificate must
 * name the address clients dial ({@code 127.0.0.1}) for host-name verification to pass. The SCRAM users
 * are written into the cluster's metadata when its storage is formatted, so they can log in from the
 * broker's first moment; a reused data directory keeps the users it was formatted with.
 *
 * <p>User names and passwords are restricted to characters that survive Kafka's {@code --add-scram}
 * argument syntax (no {@code , " [ ] =}, no blanks). Immutable.
 */
public final class SaslSslListener {
    /** The only mechanism this listener enables. */
    public static final String MECHANISM = "SCRAM-SHA-512";

    private final Path keystore;
    private final String keystorePassword;
    private final Map<String, String> scramUsers;

    private SaslSslListener(Path keystore, String keystorePassword, Map<String, String> scramUsers) {
        if (!Files.isReadable(keystore)) {
            throw new IllegalArgumentException("keystore " + keystore + " is not a readable file");
        }
        if (keystorePassword == null || keystorePassword.isEmpty()) {
            throw new IllegalArgumentException("keystore password must not be empty");
        }
        if (scramUsers.isEmpty()) {
            throw new IllegalArgumentException("at least one SCRAM user is needed, or no client could log in");
        }
        scramUsers.forEach((name, password) -> {
            requirePlain("user name", name);
            requirePlain("password of " + name, password);
        });
        this.keystore = keystore.toAbsolutePath();
        this.keystorePassword = keystorePassword;
        this.scramUsers = Map.copyOf(scramUsers);
    }

    /**
     * @param keystore         PKCS12 store with the broker's private key and certificate chain
     * @param keystorePassword the store's password, also the key's
     * @param scramUsers       user name to password, each created as a SCRAM-SHA-512 credential
     */
    public static SaslSslListener of(Path keystore, String keystorePassword, Map<String, String> scramUsers) {
        return new SaslSslListener(keystore, keystorePassword, new LinkedHashMap<>(scramUsers));
    }

    public Path keystore() {
        return keystore;
    }

    public String keystorePassword() {
        return keystorePassword;
    }

    public Map<String, String> scramUsers() {
        return scramUsers;
    }

    private static void requirePlain(String what, String value) {
        if (value == null || value.isEmpty() || !value.chars().allMatch(c -> c > ' ' && c < 127 && ",\"[]=".indexOf(c) < 0)) {
            throw new IllegalArgumentException(what + " must be non-empty printable ASCII without blanks or any of , \" [ ] =");
        }
    }

    @Override
    public String toString() {
        return "SaslSslListener[" + keystore + ", users=" + scramUsers.keySet() + "]"; // never the passwords
    }
}
