// The system package installs <doctest/doctest.h>; the wrap exposes <doctest.h>.
#pragma once

#if __has_include(<doctest/doctest.h>)
#include <doctest/doctest.h>
#else
#include <doctest.h>
#endif
