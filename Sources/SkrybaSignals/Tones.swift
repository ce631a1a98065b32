// Shared numerics for the detectors. The module imports no Foundation (SkrybaCore only), so the
// few trigonometric values the detectors need are computed here, once, at initialisation.

/// Mean power of a full-scale Int16 sine (peak 32767): the 0 dBFS reference for every threshold.
let fullScalePower = 32767.0 * 32767.0 / 2

/// Power ratio of `decibels` (10^(dB/10)); used only at initialisation.
func powerRatio(decibels: Double) -> Double {
    // 10^(x/10) = e^(x·ln10/10): exp by squaring a short Taylor series of e^(y/64).
    let y = decibels * 2.302585092994046 / 10 / 64
    var term = 1.0, sum = 1.0
    for n in 1...20 { term *= y / Double(n); sum += term }
    for _ in 0..<6 { sum *= sum }
    return sum
}

/// sin and cos of an angle in radians, to double precision; used only at initialisation.
func sineAndCosine(_ angle: Double) -> (sin: Double, cos: Double) {
    let twoPi = 2 * Double.pi
    let x = angle - (angle / twoPi).rounded() * twoPi  // now in [-π, π]
    var sinTerm = x, cosTerm = 1.0, sin = x, cos = 1.0
    for n in 1...20 {
        sinTerm *= -x * x / Double((2 * n) * (2 * n + 1))
        cosTerm *= -x * x / Double((2 * n - 1) * (2 * n))
        sin += sinTerm
        cos += cosTerm
    }
    return (sin, cos)
}
