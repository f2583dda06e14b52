package account

import "strconv"

// ErrorType names a failed look-up for telemetry's error.type by its
// status code, as the call spans name a failed call ("401", "503"), rather
// than by this package's path, which is not the user's.
func (e *StatusError) ErrorType() string { return strconv.Itoa(e.Code) }
