package org.rollstream.launcher;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code bench pipeline}'s table: the on-policy column only when asked for, with each seed's figure. */
class PipelineBenchTableTest {

    @Test
    void theOnPolicyColumnAppearsWhenAsked() {
        List<PipelineBench.Row> rows = List.of(new PipelineBench.Row(1, 0.10, 0.095, 0.065, 0.11, 58, 60),
                new PipelineBench.Row(2, 0.20, 0.125, 0.145, Double.NaN, 50, 70));
        String with = PipelineBench.table(rows, true);
        assertTrue(with.contains("| seed | teacher | distilled student | RL student | on-policy distilled |"), with);
        assertTrue(with.contains("| 1 | 10.0% | 9.5% | 6.5% | 11.0% | yes |"), with);
        assertTrue(with.contains("| 2 | 20.0% | 12.5% | 14.5% | - | no |"), with);
        String without = PipelineBench.table(rows, false);
        assertFalse(without.contains("on-policy"), without);
        assertTrue(without.contains("| 1 | 10.0% | 9.5% | 6.5% | yes |"), without);
    }
}
