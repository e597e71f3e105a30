// `import Fathom` brings in every Fathom library.
@_exported import FathomTensor
@_exported import FathomNN
@_exported import FathomData
@_exported import FathomVision
@_exported import FathomDynamics
