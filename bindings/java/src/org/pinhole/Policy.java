package org.pinhole;

/**
 * The device's privacy policy: a cap on the epsilon of one report and a budget of epsilon per
 * period (0 = none), persisted through a {@link BudgetStore}.
 */
public final class Policy {
    final double maxEpsilon;
    final double budgetEpsilon;
    final long budgetPeriodSeconds;
    final BudgetStore store;

    /**
     * @param maxEpsilon largest epsilon of one report; 0 = no cap
     * @param budgetEpsilon total epsilon per period; 0 = no budget
     * @param budgetPeriodSeconds period length, e.g. 86400 (needed with a budget)
     * @param store where spending is kept (needed with a budget)
     */
    public Policy(double maxEpsilon, double budgetEpsilon, long budgetPeriodSeconds,
            BudgetStore store) {
        this.maxEpsilon = maxEpsilon;
        this.budgetEpsilon = budgetEpsilon;
        this.budgetPeriodSeconds = budgetPeriodSeconds;
        this.store = store;
    }

    /** Only a cap on the epsilon of one report. */
    public static Policy cap(double maxEpsilon) {
        return new Policy(maxEpsilon, 0, 0, null);
    }
}
