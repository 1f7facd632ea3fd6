import ArgumentParser
import SquallFaults

/// `squall profiles`: lists the built-in network profiles with their numbers and sources.
struct ProfilesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profiles",
        abstract: "List the built-in network profiles (latency, jitter, bandwidth per direction) and their sources.",
        discussion: "Exit codes: 0 listed, 64 usage."
    )

    func run() {
        for profile in NetworkProfile.all {
            let marker = profile.approximate ? " (approximate)" : ""
            if profile.offline {
                print("\(profile.name)\(marker): offline")
            } else {
                print(
                    "\(profile.name)\(marker): down \(Self.describe(profile.downstream)), up \(Self.describe(profile.upstream))"
                )
            }
            print("    source: \(profile.source)")
        }
    }

    private static func describe(_ link: NetworkProfile.Link) -> String {
        let rate = link.bytesPerSecond.map { "\($0) B/s" } ?? "unlimited"
        let jitter = link.jitter > .zero ? " ± \(link.jitter.squallText)" : ""
        return "\(link.latency.squallText)\(jitter), \(rate)"
    }
}
