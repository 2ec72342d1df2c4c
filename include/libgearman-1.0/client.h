/* Upstream sub-header name kept for existing #include lines: everything is in gearman.h. */
#pragma once
#include <libgearman-1.0/gearman.h>
