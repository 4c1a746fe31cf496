package org.pinhole;

/**
 * Where the device keeps the epsilon it spent per budget period (a file, SharedPreferences, a
 * database). Both methods run on the reporting thread while the client's lock is held: keep them
 * short and do not report through the same client from them. An exception refuses the report and
 * reaches the caller of {@link PinholeClient#report} unchanged.
 */
public interface BudgetStore {
    /** Epsilon already spent in period (unix seconds / period length); 0 if never stored. */
    double load(long period) throws Exception;

    /** Persist the epsilon spent in period; called before the report is released. */
    void store(long period, double spent) throws Exception;
}
