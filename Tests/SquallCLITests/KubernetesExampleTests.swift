import Foundation
import SquallTestSupport
import Testing

private let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("examples/kubernetes").path

/// The Kubernetes manifests, checked as far as this machine allows (no cluster): their structure, the fields the
/// walkthrough relies on, and that every `squall` option they pass exists.
@Suite struct KubernetesExampleTests {
    private func manifest(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "\(name) is a JSON object")
    }

    private func podSpec(_ job: [String: Any]) throws -> [String: Any] {
        let spec = try #require(job["spec"] as? [String: Any])
        let template = try #require(spec["template"] as? [String: Any])
        return try #require(template["spec"] as? [String: Any])
    }

    @Test func theShardsJobIsIndexedAndItsArgumentsMatchItsSize() async throws {
        let pvc = try self.manifest("pvc.json")
        #expect(pvc["apiVersion"] as? String == "v1" && pvc["kind"] as? String == "PersistentVolumeClaim")
        let claim = try #require((pvc["metadata"] as? [String: Any])?["name"] as? String)
        #expect(((pvc["spec"] as? [String: Any])?["accessModes"] as? [String]) == ["ReadWriteMany"])

        let job = try self.manifest("shards-job.json")
        #expect(job["apiVersion"] as? String == "batch/v1" && job["kind"] as? String == "Job")
        let spec = try #require(job["spec"] as? [String: Any])
        #expect(spec["completionMode"] as? String == "Indexed")
        let completions = try #require(spec["completions"] as? Int)
        #expect(spec["parallelism"] as? Int == completions, "every shard runs at once, or the shared start is missed")
        let pod = try self.podSpec(job)
        #expect(pod["restartPolicy"] as? String == "Never")
        let container = try #require((pod["containers"] as? [[String: Any]])?.first)
        let arguments = try #require(container["args"] as? [String])
        #expect(container["command"] as? [String] == ["squall"])
        #expect(arguments.first == "run")
        let shard = try #require(arguments.firstIndex(of: "--shard").map { arguments[$0 + 1] })
        #expect(shard == "$(JOB_COMPLETION_INDEX)/\(completions)")
        #expect(arguments.contains("$(SQUALL_START_AT)"))
        let environment = try #require(container["env"] as? [[String: Any]])
        #expect(environment.contains { $0["name"] as? String == "SQUALL_START_AT" })
        // Every mount has its volume; the shared one is the claim the merge reads.
        let volumes = try #require(pod["volumes"] as? [[String: Any]])
        let names = Set(volumes.compactMap { $0["name"] as? String })
        let mounts = try #require(container["volumeMounts"] as? [[String: Any]])
        #expect(mounts.allSatisfy { names.contains($0["name"] as? String ?? "") })
        let claims = volumes.compactMap { ($0["persistentVolumeClaim"] as? [String: Any])?["claimName"] as? String }
        #expect(claims == [claim])
        let output = try #require(arguments.firstIndex(of: "--output").map { arguments[$0 + 1] })
        let shared = try #require(mounts.first { $0["name"] as? String == "shared" }?["mountPath"] as? String)
        #expect(output.hasPrefix(shared + "/"))

        // The options the pods pass are options of `squall run`.
        let help = try await SquallProcess.run(["run", "--help"])
        for option in arguments where option.hasPrefix("--") {
            #expect(help.output.contains(option), "\(option) is not an option of squall run")
        }
    }

    @Test func theMergeJobReadsTheSameVolume() throws {
        let job = try self.manifest("merge-job.json")
        #expect(job["apiVersion"] as? String == "batch/v1" && job["kind"] as? String == "Job")
        let pod = try self.podSpec(job)
        let container = try #require((pod["containers"] as? [[String: Any]])?.first)
        let command = (container["command"] as? [String] ?? []).joined(separator: " ")
        #expect(command.contains("squall merge /shared/shard-*/*/*"), "\(command)")
        let volumes = try #require(pod["volumes"] as? [[String: Any]])
        let claims = volumes.compactMap { ($0["persistentVolumeClaim"] as? [String: Any])?["claimName"] as? String }
        #expect(claims == ["squall-shards"])
    }
}
