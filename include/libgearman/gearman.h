/* Compatibility include path of older libgearman releases. */
#pragma once
#include <libgearman-1.0/gearman.h>
