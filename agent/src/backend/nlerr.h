/* nlerr.h - libnl error codes to errno */
#pragma once

/* Map a negative libnl NLE_* code to a negative errno. */
int nlerr_to_errno(int nle);
