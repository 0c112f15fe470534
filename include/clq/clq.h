/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef CLQ_CLQ_H
#define CLQ_CLQ_H

/**
 * @file clq.h
 * The umbrella header: includes every public clq header.
 */

#include <clq/version.h>
#include <clq/common.h>
#include <clq/device.h>
#include <clq/context.h>
#include <clq/event.h>
#include <clq/queue.h>
#include <clq/array.h>
#include <clq/order.h>
#include <clq/operation.h>
#include <clq/pool.h>
#include <clq/notifier.h>
#include <clq/program.h>
#include <clq/timeline.h>
#include <clq/tune.h>

#endif /* CLQ_CLQ_H */
