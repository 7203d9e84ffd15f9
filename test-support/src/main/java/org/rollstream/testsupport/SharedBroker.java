package org.rollstream.testsupport;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.rollstream.broker.EmbeddedKafka;

/**
 * One embedded KRaft broker per test JVM, started on first use and stopped (its temporary log
 * deleted) when the JUnit run ends. Test classes of a module share it, so each pays the start-up
 * once; they must therefore use their own topic and group names.
 *
 * <p>Use {@code @ExtendWith(SharedBroker.class)} and take an {@link EmbeddedKafka} parameter, in a
 * {@code @BeforeAll} method or a test: {@code @BeforeAll static void connect(EmbeddedKafka kafka)}.
 */
public final class SharedBroker implements ParameterResolver {

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == EmbeddedKafka.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return broker(context);
    }

    private static synchronized EmbeddedKafka broker(ExtensionContext context) {
        // the root store closes AutoCloseable values when the whole run ends
        return context.getRoot().getStore(ExtensionContext.Namespace.create(SharedBroker.class))
                .getOrComputeIfAbsent(EmbeddedKafka.class, k -> EmbeddedKafka.start(null), EmbeddedKafka.class);
    }
}
