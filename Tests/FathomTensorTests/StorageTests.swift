import XCTest
@testable import FathomTensor

final class StorageTests: XCTestCase {
    func testLargeBlocksAreReusedAndSmallOnesAreNot() {
        var first: TensorStorage? = TensorStorage(byteCount: 3 << 20)
        let address = first!.bytes
        first = nil
        let second = TensorStorage(byteCount: (3 << 20) - 100)  // same 1 MiB class
        XCTAssertEqual(second.bytes, address, "a freed large block is handed out again")
        XCTAssertEqual(BlockCache.sizeClass(100), 100)
        XCTAssertEqual(BlockCache.sizeClass((1 << 20) + 1), 2 << 20)
        XCTAssertEqual(BlockCache.sizeClass((64 << 10) + 1), 128 << 10)
        XCTAssertEqual(BlockCache.sizeClass(1 << 20), 1 << 20)
        XCTAssertNil(BlockCache.shared.take(4096), "small blocks are left to malloc")
    }
}
