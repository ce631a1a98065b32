/// asound.conf text for alsa-lib `type file` PCMs over raw interleaved S16_LE files: how the bench,
/// the simulator and the tests run real alsa-lib without an audio interface (DESIGN.md §7).
///
/// Facts this relies on (alsa-lib 1.2.8, checked by experiment): the slave is written inline
/// (`slave.pcm { type null }`) so the file needs nothing from the system's alsa.conf; `file` is
/// required even for capture (`/dev/null` there); capture data starts exactly at the infile's first
/// frame and runs faster than real time; past the infile's end reads keep succeeding but leave the
/// buffer untouched — so every capture of a file PCM is bounded by a frame count.
public enum FilePCMDefinition {
    /// A capture PCM that reads `infile` (raw interleaved S16_LE).
    public static func capture(name: String, infile: String) -> String {
        """
        pcm.\(name) {
            type file
            slave.pcm { type null }
            file "/dev/null"
            infile "\(escape(infile))"
            format "raw"
        }

        """
    }

    /// A playback PCM whose output lands in `outfile` (raw interleaved S16_LE, truncated on open).
    public static func playback(name: String, outfile: String) -> String {
        """
        pcm.\(name) {
            type file
            slave.pcm { type null }
            file "\(escape(outfile))"
            format "raw"
        }

        """
    }

    static func escape(_ path: String) -> String {
        var escaped = ""
        for character in path {
            if character == "\\" || character == "\"" { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }
}
