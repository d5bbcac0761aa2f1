// Shared helpers of the network checks (being written).
#pragma once
