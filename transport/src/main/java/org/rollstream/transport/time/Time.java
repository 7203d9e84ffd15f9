package org.rollstream.transport.time;

import java.time.Duration;

/**
 * The clock every deadline loop reads, passed in rather than called statically, so the feeder,
 * the learner's state machine and the retry loops can be tested with a {@link ManualTime} that
 * tests advance instead of sleeping.
 */
public interface Time {
    /** The wall clock and {@code System.nanoTime()}; sleeps for real. */
    Time SYSTEM = new Time() {
        @Override
        public long milliseconds() {
            return System.currentTimeMillis();
        }

        @Override
        public long nanoseconds() {
            return System.nanoTime();
        }

        @Override
        public void sleep(long ms) throws InterruptedException {
            Thread.sleep(ms);
        }
    };

    /** Wall-clock milliseconds since the epoch (for records and timestamps). */
    long milliseconds();

    /** A monotonic reading for measuring durations. */
    long nanoseconds();

    /** Waits {@code ms}; a manual clock advances itself instead. */
    void sleep(long ms) throws InterruptedException;

    /** A deadline {@code timeout} from now on this clock. */
    default Timer timer(Duration timeout) {
        return new Timer(this, timeout.toMillis());
    }
}
