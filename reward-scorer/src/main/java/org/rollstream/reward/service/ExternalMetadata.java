package org.rollstream.reward.service;

import java.util.LinkedHashMap;
import java.util.Map;

import org.rollstream.schemas.records.Prompt;
import org.rollstream.schemas.records.SampledGroup;

/** The {@code metadata} of one completion as external scorers receive it: ids, dataset, policy, sampling. */
final class ExternalMetadata {
    private ExternalMetadata() {
    }

    static Map<String, String> of(SampledGroup g, int index) {
        Prompt p = g.getPrompt();
        Map<String, String> m = new LinkedHashMap<>();
        m.put("prompt_id", str(p.getId()));
        m.put("completion_index", Integer.toString(index));
        m.put("dataset", str(p.getDataset()));
        m.put("split", str(p.getSplit()));
        m.put("policy_version", Long.toString(g.getPolicyVersion()));
        m.put("policy_run_id", str(g.getPolicyRunId()));
        m.put("actor_id", str(g.getActorId()));
        m.put("temperature", Float.toString(g.getTemperature()));
        return m;
    }

    private static String str(Object o) {
        return o == null ? "" : o.toString();
    }
}
