/* C++ stream output for gearman_return_t and gearman_status_t (as upstream's ostream.hpp),
 * implemented inline over exported functions. */
#pragma once

#include <libgearman-1.0/gearman.h>
#include <ostream>

static inline std::ostream& operator<<(std::ostream& output, const enum gearman_return_t &arg)
{
  output << gearman_strerror(arg);
  return output;
}

static inline std::ostream& operator<<(std::ostream& output, const gearman_status_t &arg)
{
  output << std::boolalpha
    << " is_known: " << gearman_status_is_known(arg)
    << " is_running: " << gearman_status_is_running(arg)
    << " complete: " << gearman_status_numerator(arg) << "/" << gearman_status_denominator(arg)
    << " ret: " << gearman_strerror(gearman_status_return(arg));
  return output;
}
