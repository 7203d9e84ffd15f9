package org.rollstream.transport.weights;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rollstream.schemas.records.PolicyVersion;
import org.rollstream.schemas.serde.AvroCodec;

class AnnouncementSignerTest {
    private static final AnnouncementSigner KEY = AnnouncementSigner.of("correct horse battery staple".getBytes(StandardCharsets.UTF_8));
    private static final AnnouncementSigner OTHER = AnnouncementSigner.of("another secret of some length".getBytes(StandardCharsets.UTF_8));

    private static PolicyVersion announcement() {
        return PolicyVersion.newBuilder().setPolicy("default").setVersion(3).setStep(12).setRunId("run-a").setIncarnation(1)
                .setWeightsLocation("kafka:policy.weights/run-a/3?incarnation=1&partition=0&offset=40&chunks=2")
                .setSha256("ab".repeat(32)).setCreatedAtMs(1_700_000_000_000L).setSpec("{}").build();
    }

    @Test
    void aSignedAnnouncementVerifiesAfterTheWire() {
        PolicyVersion signed = KEY.sign(announcement());
        assertTrue(signed.getSignature().startsWith(AnnouncementSigner.PREFIX));
        AvroCodec<PolicyVersion> codec = AvroCodec.of(PolicyVersion.class);
        assertEquals(AnnouncementSigner.Verdict.VALID, KEY.verify(codec.decode(codec.encode(signed))));
    }

    @Test
    void unsignedIsRefused() {
        assertEquals(AnnouncementSigner.Verdict.UNSIGNED, KEY.verify(announcement()));
    }

    @Test
    void anotherKeysSignatureIsRefused() {
        assertEquals(AnnouncementSigner.Verdict.INVALID, KEY.verify(OTHER.sign(announcement())));
    }

    @Test
    void changingAnySignedFieldBreaksTheSignature() {
        PolicyVersion signed = KEY.sign(announcement());
        PolicyVersion[] altered = {
            PolicyVersion.newBuilder(signed).setSha256("cd".repeat(32)).build(),
            PolicyVersion.newBuilder(signed).setVersion(4).build(),
            PolicyVersion.newBuilder(signed).setRunId("run-b").build(),
            PolicyVersion.newBuilder(signed).setIncarnation(2).build(),
            PolicyVersion.newBuilder(signed).setWeightsLocation("/tmp/evil.safetensors").build(),
            PolicyVersion.newBuilder(signed).setSpec("{\"dModel\":1}").build(),
            PolicyVersion.newBuilder(signed).setSignature("hmac-sha256:zz").build(),
        };
        for (PolicyVersion v : altered) {
            assertEquals(AnnouncementSigner.Verdict.INVALID, KEY.verify(v), v.toString());
        }
    }

    @Test
    void fieldBoundariesCannotBeShifted() {
        PolicyVersion a = PolicyVersion.newBuilder(announcement()).setPolicy("ab").setRunId("c").build();
        PolicyVersion b = PolicyVersion.newBuilder(announcement()).setPolicy("a").setRunId("bc").build();
        assertNotEquals(KEY.sign(a).getSignature(), KEY.sign(b).getSignature());
    }

    @Test
    void keyFilesAreTrimmedAndShortKeysRefused(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("key");
        Files.writeString(file, "correct horse battery staple\n");
        assertEquals(AnnouncementSigner.Verdict.VALID, AnnouncementSigner.fromFile(file).verify(KEY.sign(announcement())));
        Files.writeString(file, "short\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AnnouncementSigner.fromFile(file));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("at least 16 bytes"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> AnnouncementSigner.fromFile(dir.resolve("missing")));
    }
}
