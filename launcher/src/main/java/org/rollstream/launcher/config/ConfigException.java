package org.rollstream.launcher.config;

/** A configuration file or value the user must fix; the command exits 2 with this message. */
public final class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }
}
