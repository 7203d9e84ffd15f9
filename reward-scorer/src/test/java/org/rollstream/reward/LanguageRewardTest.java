package org.rollstream.reward;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class LanguageRewardTest {

    private static RewardInput in(String completion, String language) {
        return RewardInput.builder().completion(completion).targetLanguage(language).build();
    }

    @Test
    void shareOfLettersInTheTargetScript() {
        LanguageReward r = new LanguageReward();
        // hello = 5 Latin letters, мир = 3 Cyrillic letters; digits, spaces, '+', '=' are ignored
        String c = "<think>hello мир 1+2=3</think><answer>world</answer>";
        assertEquals(5.0 / 8, r.score(in(c, "")), 1e-12);
        assertEquals(5.0 / 8, r.score(in(c, "en")), 1e-12);
        assertEquals(3.0 / 8, r.score(in(c, "ru")), 1e-12);
        assertEquals(3.0 / 8, r.score(in(c, "CYRILLIC")), 1e-12);
        assertEquals(0.0, r.score(in(c, "zh")), 1e-12);
    }

    @Test
    void onlyTheReasoningCounts() {
        LanguageReward r = new LanguageReward();
        assertEquals(1.0, r.score(in("<think>abc</think><answer>мир</answer>", "")));
        assertEquals(1.0, r.score(in("<think>7+8=15</think><answer>85</answer>", "")), "no letters");
        assertEquals(0.5, r.score(in("ab мы", "")), "without a think block the whole completion counts");
        assertEquals(1.0, r.score(in("<think>日本語です</think><answer>x</answer>", "ja")), "Han + Hiragana for Japanese");
        assertEquals(0.6, r.score(in("<think>日本語です</think><answer>x</answer>", "zh")), 1e-12);
    }

    @Test
    void scriptOptionAndErrors() {
        RewardFunction cyr = new LanguageReward().withOptions(Map.of("script", "ru"));
        assertEquals(1.0, cyr.score(in("<think>мир</think><answer>1</answer>", "")));
        assertEquals(0.0, cyr.score(in("<think>мир</think><answer>1</answer>", "en")), "the record's language wins");
        assertThrows(IllegalArgumentException.class, () -> new LanguageReward().withOptions(Map.of("scirpt", "ru")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new LanguageReward().score(in("a", "klingon")));
        assertTrue(e.getMessage().contains("unknown target language 'klingon'"));
    }
}
