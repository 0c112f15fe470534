/* SPDX-License-Identifier: BSD-3-Clause */
/* Arming the faults of tests/fault.c (see tests/fault.h). */
#ifndef CLQ_TESTS_FAULT_CONTROL_H
#define CLQ_TESTS_FAULT_CONTROL_H

/* The k-th wrapped call from now (k >= 1) fails, once. */
void fault_arm(long k);
/* Disarms; returns how many faults fired since fault_arm() (0 or 1). */
long fault_disarm(void);
/* Wrapped calls since fault_arm(). */
long fault_calls(void);

#endif
