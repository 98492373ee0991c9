"""An independent numpy GPTQ (Frantar et al. 2022, Algorithm 1, with
act-order and static groups), written from the paper for the tests of
qmlir.quantize(..., hessian=H): given the scales / zero points of plain
rounding, it picks codes column by column and spreads each column's error
over the remaining columns through the upper Cholesky factor of H^-1."""
import numpy as np

import qref


def _encode(kind, symmetric, v, scale, zp):
    """Nearest representable values of v (a column) and their codes."""
    if kind in ("nf4", "fp4"):
        table = np.asarray(qref.table_for(kind), np.float64)
        unit = np.where(scale > 0, np.clip(v / np.where(scale > 0, scale, 1), -1, 1), 0)
        code = np.abs(unit[:, None] - table[None, :]).argmin(1)
        return table[code] * scale
    bits8 = kind == "int8"
    safe = np.where(scale > 0, scale, 1)
    if symmetric:
        qmax = 127 if bits8 else 7
        q = np.clip(np.round(v / safe), -qmax if bits8 else -8, qmax)
        return np.where(scale > 0, q * scale, 0.0)
    levels = 255 if bits8 else 15
    q = np.clip(np.round(v / safe) + zp, 0, levels)
    return np.where(scale > 0, (q - zp) * scale, 0.0)


def gptq(w, h, scales, zero_points, kind, symmetric, group_size, damp=0.01):
    """Dequantized GPTQ weight [N, K] for per-group decoded scales
    [N, G] and zero points [N, G] (zeros for symmetric schemes)."""
    w = np.asarray(w, np.float64)
    n, k = w.shape
    h = np.array(h, np.float64)
    dead = np.diag(h) == 0
    h[dead, dead] = 1.0
    h += damp * np.mean(np.diag(h)) * np.eye(k)
    perm = np.argsort(-np.diag(h), kind="stable")
    hp = h[perm][:, perm]
    u = np.linalg.cholesky(np.linalg.inv(hp)).T  # upper, U^T U = H^-1
    work = w[:, perm].copy()
    out = np.zeros_like(work)
    for c in range(k):
        col = perm[c]
        g = col // group_size
        if dead[col]:
            q = _encode(kind, symmetric, w[:, col], scales[:, g], zero_points[:, g])
        else:
            q = _encode(kind, symmetric, work[:, c], scales[:, g], zero_points[:, g])
        out[:, c] = q
        err = (work[:, c] - q) / u[c, c]
        work[:, c + 1:] -= np.outer(err, u[c, c + 1:])
    result = np.empty_like(out)
    result[:, perm] = out
    return result
