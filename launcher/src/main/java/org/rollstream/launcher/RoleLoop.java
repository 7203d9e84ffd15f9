package org.rollstream.launcher;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** Keeps a long-running role alive until Ctrl-C, printing its status every 10 s. */
final class RoleLoop {
    private RoleLoop() {
    }

    static void untilInterrupted(Supplier<String> status) throws InterruptedException {
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown, "role-stop"));
        while (!stop.await(10, TimeUnit.SECONDS)) {
            System.out.println(status.get());
        }
    }
}
