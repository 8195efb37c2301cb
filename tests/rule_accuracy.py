#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Per-rule figures for `make bench-attribution`.

usage: rule_accuracy.py SCORER GOLD_DIR PRED_DIR

PRED files are `radioplay quotes --explain` output (line, col, speaker, rule,
confidence, text). Uses the scorer's own matching and speaker mapping, so a
quote counts as right here exactly when the scorer counts it right. Prints,
per rule, the quotes it decided, how many were right, and the accuracy, and
the accuracy by confidence band (to check that `radioplay check` flags the
quotes worth a tag).
"""
import collections
import importlib.machinery
import importlib.util
import os
import sys


def load_scorer(path):
    loader = importlib.machinery.SourceFileLoader('scorer', path)
    spec = importlib.util.spec_from_loader('scorer', loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def main():
    sc = load_scorer(sys.argv[1])
    gold_dir, pred_dir = sys.argv[2], sys.argv[3]
    total, right = collections.Counter(), collections.Counter()
    band_total, band_right = collections.Counter(), collections.Counter()
    for name in sorted(os.listdir(gold_dir)):
        path = os.path.join(pred_dir, name)
        if not os.path.exists(path):
            continue
        gold = sc.read_tsv(os.path.join(gold_dir, name), ['n', 'line', 'col', 'speaker'], 'gold')
        with open(path, encoding='utf-8', errors='replace') as f:
            rows = [r.rstrip('\n').split('\t') for r in f][1:]
        pred = [(int(r[0]), int(r[1]), r[2]) for r in rows]
        g2p = sc.match_positions(gold, pred)
        glab = sorted(set(g[2] for g in gold))
        plab = sorted(set(p[2] for p in pred))
        weight = [[0] * len(glab) for _ in plab]
        for gi, pi in g2p.items():
            weight[plab.index(pred[pi][2])][glab.index(gold[gi][2])] += 1
        mapping = {}
        if plab and glab:
            _, m = sc.hungarian_max(weight)
            mapping = {plab[r]: glab[c] for r, c in m.items() if r < len(plab) and c < len(glab)}
        for gi, pi in g2p.items():
            rule = rows[pi][3] if len(rows[pi]) > 3 else '?'
            conf = float(rows[pi][4]) if len(rows[pi]) > 4 else 0.0
            band = 'confidence >= 0.5' if conf >= 0.5 else 'confidence <  0.5'
            ok = mapping.get(pred[pi][2]) == gold[gi][2]
            total[rule] += 1
            band_total[band] += 1
            right[rule] += ok
            band_right[band] += ok
    print('bench-attribution: %-18s %6s %6s %6s' % ('rule', 'quotes', 'right', 'acc'))
    for rule in sorted(total, key=lambda r: -total[r]):
        print('bench-attribution: %-18s %6d %6d %6.3f' % (rule, total[rule], right[rule],
                                                          right[rule] / total[rule]))
    for band in sorted(band_total):
        print('bench-attribution: %-18s %6d %6d %6.3f' % (band, band_total[band], band_right[band],
                                                          band_right[band] / band_total[band]))


if __name__ == '__main__':
    main()
