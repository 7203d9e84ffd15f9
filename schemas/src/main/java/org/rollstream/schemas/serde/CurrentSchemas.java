package org.rollstream.schemas.serde;

import java.util.List;
import org.apache.avro.Schema;
import org.rollstream.schemas.records.DeadLetter;
import org.rollstream.schemas.records.MetricEvent;
import org.rollstream.schemas.records.PartialReward;
import org.rollstream.schemas.records.PolicyVersion;
import org.rollstream.schemas.records.Prompt;
import org.rollstream.schemas.records.SampledGroup;
import org.rollstream.schemas.records.ScoredGroup;
import org.rollstream.schemas.records.SftSample;
import org.rollstream.schemas.records.StepAudit;
import org.rollstream.schemas.records.WeightChunk;

/** The top-level record schemas of this release. */
final class CurrentSchemas {
    private CurrentSchemas() {
    }

    static List<Schema> all() {
        return List.of(Prompt.getClassSchema(), SampledGroup.getClassSchema(), ScoredGroup.getClassSchema(),
                PolicyVersion.getClassSchema(), SftSample.getClassSchema(), MetricEvent.getClassSchema(),
                DeadLetter.getClassSchema(), StepAudit.getClassSchema(), PartialReward.getClassSchema(),
                WeightChunk.getClassSchema());
    }
}
