"""Inverse kinematics of an articulated arm on a rail (Ardizzone's thesis §4.2.2, eqs. 4.3-4.4)."""

from simulators.kinematics.arm import ARM_LENGTHS, KinematicsSimulator, end_point, joint_positions
from simulators.kinematics.rail_prior import BimodalRailPrior

__all__ = ["ARM_LENGTHS", "BimodalRailPrior", "KinematicsSimulator", "end_point", "joint_positions"]
