#pragma once
// A small, dependency-free page that shows the worklist to a person with a token: the node
// serves it at /ui, the plugin at /annotation/ui (linked from Orthanc Explorer). It holds no
// data itself; it calls the API with the token the user types (kept in sessionStorage only).
#include "http/HttpMessage.h"

namespace annot {
HttpResponse worklistPage();
}
