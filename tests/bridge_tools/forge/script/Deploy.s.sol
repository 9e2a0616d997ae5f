// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Counter} from "../src/Counter.sol";

/// The two cheatcodes a broadcasting script needs, at forge's cheatcode address (what forge-std's `Vm` declares).
interface Broadcaster {
    function startBroadcast() external;
    function stopBroadcast() external;
}

/// Three transactions from the sender: deploy a Counter, then add to it twice (1, then 2: it ends at 3).
contract Deploy {
    Broadcaster internal constant VM = Broadcaster(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);

    function run() external returns (Counter counter) {
        VM.startBroadcast();
        counter = new Counter();
        counter.add(1);
        counter.add(2);
        VM.stopBroadcast();
    }
}
