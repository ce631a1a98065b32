import Foundation
import Testing
@testable import SkrybaSignals

extension Signals {
    /// The detectors' own sine/cosine and dB conversion (the module avoids Foundation) against libm.
    @Suite struct SignalNumericsTests {
        @Test func sineAndCosineMatchLibm() {
            for step in -2000...2000 {
                let angle = Double(step) * 0.0137
                let (s, c) = sineAndCosine(angle)
                #expect(abs(s - sin(angle)) < 1e-12 && abs(c - cos(angle)) < 1e-12, "angle \(angle)")
            }
        }

        @Test func powerRatioMatchesLibm() {
            for decibels in stride(from: -60.0, through: 20, by: 0.5) {
                #expect(abs(powerRatio(decibels: decibels) / pow(10, decibels / 10) - 1) < 1e-12, "\(decibels) dB")
            }
        }
    }
}
