#include "net_util.hpp"
