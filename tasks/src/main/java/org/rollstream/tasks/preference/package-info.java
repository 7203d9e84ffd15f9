/**
 * Preference pairs for reward-model training: built-in pairs decided by rules
 * ({@link org.rollstream.tasks.preference.BuiltinPreferences}), a JSONL reader and writer
 * ({@link org.rollstream.tasks.preference.PreferenceJsonl}) and the texts each reward head reads
 * ({@link org.rollstream.tasks.preference.RewardTexts}).
 */
package org.rollstream.tasks.preference;
