package org.rollstream.tasks;

import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

class AnswersTest {

    @Test
    void extractsTheLastCompleteAnswer() {
        assertEquals(Optional.of("85"), Answers.extract("<think>7+8=15</think><answer>85</answer>"));
        assertEquals(Optional.of("2"), Answers.extract("<answer>1</answer> no, <answer> 2 </answer>"));
        assertEquals(Optional.of("1"), Answers.extract("<answer>1</answer><answer>2"), "an unclosed answer does not count");
        assertEquals(Optional.of(""), Answers.extract("<answer></answer>"));
        assertEquals(Optional.empty(), Answers.extract("<think>85</think>"));
        assertEquals(Optional.empty(), Answers.extract("85</answer>"));
        assertEquals(Optional.empty(), Answers.extract(null));
    }

    @Test
    void formatsTheCanonicalCompletion() {
        assertEquals("<think>a</think><answer>b</answer>", Answers.format("a", "b"));
    }

    @Test
    void numericEquivalence() {
        assertTrue(Answers.equivalent("85", "85"));
        assertTrue(Answers.equivalent(" 85 ", "85"));
        assertTrue(Answers.equivalent("85.0", "85"));
        assertTrue(Answers.equivalent("85.", "85"));
        assertTrue(Answers.equivalent("\u22123", "-3"));
        assertTrue(Answers.equivalent("+5", "5"));
        assertTrue(Answers.equivalent("1/2", "0.5"));
        assertTrue(Answers.equivalent("2/4", ".5"));
        assertTrue(Answers.equivalent("-1/2", "1/-2"));
        assertTrue(Answers.equivalent("1,234", "1234"));
        assertTrue(Answers.equivalent("1e3", "1000"));
        assertTrue(Answers.equivalent("Paris", " Paris"));
        assertFalse(Answers.equivalent("84", "85"));
        assertFalse(Answers.equivalent("0.33", "1/3"), "no floating tolerance");
        assertFalse(Answers.equivalent("1/0", "1/0 ".strip() + "x"));
        assertFalse(Answers.equivalent("paris", "Paris"));
        assertFalse(Answers.equivalent("", "0"));
        assertFalse(Answers.equivalent(null, "0"));
        assertFalse(Answers.equivalent("1e999999", "1"), "huge exponents are not parsed");
        assertFalse(Answers.equivalent("1,2", "12"), "commas group thousands only");
    }
}
