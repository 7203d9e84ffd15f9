package org.rollstream.actor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.rollstream.policy.CharTokenizer;
import org.rollstream.policy.ort.Device;
import org.rollstream.policy.djl.DjlPolicy;
import org.rollstream.policy.ModelSpec;
import org.rollstream.policy.ort.OrtPolicy;
import org.rollstream.policy.ort.OrtSampler;
import org.rollstream.policy.SamplingParams;
import org.rollstream.transport.time.ManualTime;

/**
 * ONNX Runtime sessions of swapped-out and late versions are closed, never leaked, and never
 * closed under a running batch: checked on real sessions (a closed policy refuses to sample).
 */
@org.junit.jupiter.api.Timeout(60)
class ServingSlotTest {
    static final ModelSpec SPEC = new ModelSpec(CharTokenizer.builtin().vocabSize(), 16, 1, 2, 32, ModelSpec.Positional.LEARNED, 2);
    static final List<int[]> PROMPT = List.of(new int[]{1, 10, 11});

    static ServingPolicy load(long version) {
        OrtPolicy ort = OrtPolicy.create(SPEC, DjlPolicy.initialWeights(SPEC, version), Device.CPU);
        return new ServingPolicy(new PolicyIdentity("r", 0, version), ort, new OrtSampler(ort));
    }

    static boolean samples(ServingPolicy p) {
        try {
            p.sampler().sample(PROMPT, 1, SamplingParams.of(0f, 2, 1));
            return true;
        } catch (IllegalStateException closed) {
            assertTrue(closed.getMessage().contains("closed"), closed.getMessage());
            return false;
        }
    }

    @Test
    void aSwapClosesTheOldVersionOnlyAfterTheBatchUsingIt() {
        ServingSlot slot = new ServingSlot();
        ServingPolicy v1 = load(1), v2 = load(2);
        assertTrue(slot.install(v1));
        ServingPolicy batch = slot.acquire();
        assertSame(v1, batch);
        assertTrue(slot.install(v2));
        assertEquals(2, slot.identity().version());
        assertTrue(samples(batch), "the batch's reference keeps v1 open after the swap");
        batch.release();
        assertFalse(samples(v1), "the last reference gone: v1's sessions are closed");
        assertTrue(samples(slot.acquire()));
        slot.close();
        assertNull(slot.acquire());
        assertTrue(samples(v2), "closed only after the batch holding it");
        v2.release();
        assertFalse(samples(v2));
    }

    @Test
    void aVersionLoadedAfterCloseIsClosedNotInstalled() {
        ServingSlot slot = new ServingSlot();
        slot.close();
        ServingPolicy late = load(3);
        assertFalse(slot.install(late));
        assertNull(slot.identity());
        assertFalse(samples(late), "its sessions were closed at once");
        assertThrows(IllegalStateException.class, () -> late.sampler().sample(PROMPT, 1, SamplingParams.of(0f, 2, 1)));
    }

    @Test
    void waitingEndsOnANewVersionOnExpiryOrWhenWaitingIsOver() throws InterruptedException {
        ServingSlot slot = new ServingSlot();
        ServingPolicy v1 = load(1);
        slot.install(v1);
        ManualTime time = new ManualTime();
        // an expired timer returns at once
        slot.awaitChange(v1, time.timer(Duration.ZERO));
        // a new version wakes a waiter
        Thread installer = new Thread(() -> slot.install(load(2)));
        installer.start();
        slot.awaitChange(v1, new ManualTime().timer(Duration.ofDays(1))); // only a change can end this
        installer.join();
        assertEquals(2, slot.identity().version());
        ServingPolicy now = slot.acquire();
        slot.wakeWaiters();
        slot.awaitChange(now, time.timer(Duration.ofDays(1))); // returns: nobody waits once stopping
        now.release();
        slot.close();
    }
}
