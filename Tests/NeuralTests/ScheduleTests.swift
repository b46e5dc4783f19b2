import Testing
import Neural

struct ScheduleTests {
    let schedule = WarmupCosineSchedule(baseRate: 1e-3, warmupSteps: 10, totalSteps: 110, finalRate: 1e-5)

    @Test(arguments: [(0, 1e-4), (4, 5e-4), (9, 1e-3), (10, 1e-3), (60, 5.05e-4),
                      (35, 1e-5 + 0.99e-3 * 0.5 * (1 + 0.7071067811865476)), (110, 1e-5), (5000, 1e-5)])
    func warmupThenCosineAtKeySteps(step: Int, expected: Double) {
        #expect(abs(Double(schedule.rate(at: step)) - expected) < 1e-9, "step \(step): \(schedule.rate(at: step))")
    }

    @Test func risesDuringWarmupThenNeverRises() {
        let rates = (0..<120).map { schedule.rate(at: $0) }
        for s in 1..<10 { #expect(rates[s] > rates[s - 1]) }
        for s in 10..<120 { #expect(rates[s] <= rates[s - 1]) }
        #expect(rates.allSatisfy { $0 >= 1e-5 && $0 <= 1e-3 })
    }

    @Test func noWarmupStartsAtBaseAndConstantNeverMoves() {
        #expect(WarmupCosineSchedule(baseRate: 0.5, warmupSteps: 0, totalSteps: 4).rate(at: 0) == 0.5)
        #expect(WarmupCosineSchedule(baseRate: 0.5, warmupSteps: 0, totalSteps: 4).rate(at: 4) == 0)
        let constant = ConstantSchedule(baseRate: 3e-4)
        #expect([0, 1, 1_000_000].map { constant.rate(at: $0) } == [3e-4, 3e-4, 3e-4])
    }
}
