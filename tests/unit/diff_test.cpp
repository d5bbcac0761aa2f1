// Placeholder: filled by issue 16's work.
#include <catch2/catch.hpp>
