// Every test file here gets the shared gradient checks and fixture loading.
@_exported import FathomTestSupport
