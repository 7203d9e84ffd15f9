package org.rollstream.reward;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class GroupAdvantagesTest {

    private static final GroupAdvantages EXACT = new GroupAdvantages(GroupAdvantages.Mode.GRPO, 0);

    @Test
    void populationStdGivesPlusMinusOne() {
        // mean 0.5, population std 0.5
        assertArrayEquals(new double[]{1, -1, -1, 1}, EXACT.compute(new double[]{1, 0, 0, 1}), 1e-12);
        // with eps 1e-6: ±0.5 / (0.5 + 1e-6)
        double a = 0.5 / 0.500001;
        assertArrayEquals(new double[]{a, -a, -a, a}, GroupAdvantages.grpo().compute(new double[]{1, 0, 0, 1}), 1e-12);
    }

    @Test
    void oneRightOfFour() {
        // mean 0.25, variance (0.5625 + 3 * 0.0625) / 4 = 0.1875, std = sqrt(3)/4
        double s3 = Math.sqrt(3);
        assertArrayEquals(new double[]{s3, -1 / s3, -1 / s3, -1 / s3}, EXACT.compute(new double[]{1, 0, 0, 0}), 1e-12);
        assertArrayEquals(new double[]{0.75, -0.25, -0.25, -0.25}, GroupAdvantages.drGrpo().compute(new double[]{1, 0, 0, 0}), 1e-12);
        assertArrayEquals(new double[]{-0.5, 0.5}, GroupAdvantages.drGrpo().compute(new double[]{0.2, 1.2}), 1e-12);
    }

    @Test
    void equalGroupsGetZeros() {
        assertArrayEquals(new double[]{0, 0, 0}, GroupAdvantages.grpo().compute(new double[]{1.2, 1.2, 1.2}));
        assertArrayEquals(new double[]{0, 0}, GroupAdvantages.drGrpo().compute(new double[]{-1, -1}));
        assertArrayEquals(new double[]{0}, EXACT.compute(new double[]{3}));
        assertArrayEquals(new double[0], EXACT.compute(new double[0]));
        assertTrue(GroupAdvantages.allEqual(new double[]{1, 1, 1}));
        assertTrue(GroupAdvantages.allEqual(new double[]{0.1 + 0.2, 0.3}));
        assertFalse(GroupAdvantages.allEqual(new double[]{1, 1, 0}));
        assertTrue(GroupAdvantages.allEqual(new double[0]));
    }

    @Test
    void modesAndErrors() {
        assertEquals(GroupAdvantages.Mode.DR_GRPO, GroupAdvantages.parseMode("Dr-GRPO"));
        assertEquals(GroupAdvantages.Mode.GRPO, GroupAdvantages.parseMode("grpo"));
        assertThrows(IllegalArgumentException.class, () -> GroupAdvantages.parseMode("ppo"));
        assertThrows(IllegalArgumentException.class, () -> GroupAdvantages.grpo().compute(new double[]{1, Double.NaN}));
        assertThrows(IllegalArgumentException.class, () -> new GroupAdvantages(GroupAdvantages.Mode.GRPO, -1));
        assertEquals("advantage=dr-grpo,eps=1.0E-6", GroupAdvantages.drGrpo().toString());
    }
}
