package org.rollstream.launcher;

import java.io.PrintStream;
import java.util.Locale;

/**
 * How a second reward configuration's scores differ from the recorded ones, over the groups compared:
 * rewards and advantages per completion, how often the order of a group's completions by reward changes
 * (a discordant pair: i above j before, not after, or the reverse; ties count as an order), and how
 * often an advantage changes sign (which flips whether the learner pushes a completion up or down).
 */
final class RescoreDiff {
    long groups;
    long completions;
    long notPreviouslyScored;
    double oldRewardSum;
    double newRewardSum;
    double absRewardDiffSum;
    double absAdvantageDiffSum;
    long completionsFlipped;
    long groupsFlipped;
    long groupsReordered;
    double kendallDistanceSum;
    long groupsBecameUninformative;
    long groupsBecameInformative;

    /** Adds one group's recorded ({@code old*}) and new rewards and advantages, completion-aligned. */
    void add(double[] oldRewards, double[] oldAdv, double[] newRewards, double[] newAdv) {
        groups++;
        boolean flipped = false;
        for (int i = 0; i < oldRewards.length; i++) {
            completions++;
            oldRewardSum += oldRewards[i];
            newRewardSum += newRewards[i];
            absRewardDiffSum += Math.abs(oldRewards[i] - newRewards[i]);
            absAdvantageDiffSum += Math.abs(oldAdv[i] - newAdv[i]);
            if (oldAdv[i] * newAdv[i] < 0) {
                completionsFlipped++;
                flipped = true;
            }
        }
        groupsFlipped += flipped ? 1 : 0;
        int n = oldRewards.length;
        long pairs = (long) n * (n - 1) / 2;
        long discordant = 0;
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                if (Double.compare(oldRewards[i], oldRewards[j]) != Double.compare(newRewards[i], newRewards[j])) {
                    discordant++;
                }
            }
        }
        groupsReordered += discordant > 0 ? 1 : 0;
        kendallDistanceSum += pairs == 0 ? 0 : (double) discordant / pairs;
        boolean oldFlat = allEqual(oldRewards);
        boolean newFlat = allEqual(newRewards);
        groupsBecameUninformative += !oldFlat && newFlat ? 1 : 0;
        groupsBecameInformative += oldFlat && !newFlat ? 1 : 0;
    }

    private static boolean allEqual(double[] r) {
        for (double v : r) {
            if (v != r[0]) {
                return false;
            }
        }
        return true;
    }

    double meanOldReward() {
        return completions == 0 ? Double.NaN : oldRewardSum / completions;
    }

    double meanNewReward() {
        return completions == 0 ? Double.NaN : newRewardSum / completions;
    }

    double meanAbsRewardDiff() {
        return completions == 0 ? Double.NaN : absRewardDiffSum / completions;
    }

    double meanAbsAdvantageDiff() {
        return completions == 0 ? Double.NaN : absAdvantageDiffSum / completions;
    }

    double shareGroupsFlipped() {
        return groups == 0 ? Double.NaN : (double) groupsFlipped / groups;
    }

    double shareGroupsReordered() {
        return groups == 0 ? Double.NaN : (double) groupsReordered / groups;
    }

    void print(PrintStream out) {
        out.printf(Locale.ROOT, "groups compared             %d (%d completions)%s%n", groups, completions,
                notPreviouslyScored == 0 ? "" : "; " + notPreviouslyScored + " not on rollouts.scored, rescored only");
        out.printf(Locale.ROOT, "mean reward                 %.4f recorded -> %.4f rescored%n", meanOldReward(), meanNewReward());
        out.printf(Locale.ROOT, "mean |reward diff|          %.4f per completion%n", meanAbsRewardDiff());
        out.printf(Locale.ROOT, "mean |advantage diff|       %.4f per completion%n", meanAbsAdvantageDiff());
        out.printf(Locale.ROOT, "advantage sign flips        %.1f%% of groups (%d completions)%n", 100 * shareGroupsFlipped(),
                completionsFlipped);
        out.printf(Locale.ROOT, "rank changes                %.1f%% of groups reordered, mean Kendall distance %.3f%n",
                100 * shareGroupsReordered(), groups == 0 ? Double.NaN : kendallDistanceSum / groups);
        out.printf(Locale.ROOT, "informative -> all equal    %d groups; all equal -> informative %d groups%n",
                groupsBecameUninformative, groupsBecameInformative);
    }
}
