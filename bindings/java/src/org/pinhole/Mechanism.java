package org.pinhole;

/** The frequency oracles, with the ids of the wire format (docs/mechanisms.md). */
public enum Mechanism {
    PGR(1), GRR(2), OUE(3), SUE(4), OLH(5), HR(6), SS(7), HPGR(8);

    final int id;

    Mechanism(int id) {
        this.id = id;
    }

    static Mechanism of(int id) {
        for (Mechanism m : values()) {
            if (m.id == id) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown mechanism " + id);
    }
}
